/* Malformed vhost-user messages: the backend drops the connection, frees
 * what the guest had, stays alive and serves the next frontend. Non-fatal
 * errors are answered (REPLY_ACK) without dropping. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "memory-table.h"
#include "test-device.h"
#include "tessera-test.h"
#include "vhost-user-frontend.h"
#include "vhost-user-proto.h"

#define TIMEOUT_MS 10000
#define V TESSERA_VHOST_USER_VERSION
#define NEED_REPLY TESSERA_VHOST_USER_FLAG_NEED_REPLY

static char socket_dir[64];
static char socket_path[128];
static struct test_device dev;

static int raw_connect(void) {
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	REQUIRE(fd >= 0);
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	strcpy(addr.sun_path, socket_path);
	REQUIRE(connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0);
	return fd;
}

static void raw_send_parts(int fd, const struct tessera_vhost_user_header *hdr,
		const void *payload, size_t payload_len, const int *fds, size_t nfds) {
	struct iovec iov[2] = {
		{ .iov_base = (void *)hdr, .iov_len = sizeof(*hdr) },
		{ .iov_base = (void *)payload, .iov_len = payload_len },
	};
	union {
		char buf[CMSG_SPACE(sizeof(int) * 16)];
		struct cmsghdr align;
	} control;
	memset(&control, 0, sizeof(control));
	struct msghdr msg = {
		.msg_iov = iov,
		.msg_iovlen = payload_len > 0 ? 2 : 1,
	};
	if (nfds > 0) {
		REQUIRE(nfds <= 16);
		msg.msg_control = control.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	REQUIRE(sendmsg(fd, &msg, MSG_NOSIGNAL) ==
		(ssize_t)(sizeof(*hdr) + payload_len));
}

static void raw_send(int fd, uint32_t request, uint32_t flags,
		const void *payload, uint32_t size, const int *fds, size_t nfds) {
	struct tessera_vhost_user_header hdr = { request, flags, size };
	raw_send_parts(fd, &hdr, payload, size, fds, nfds);
}

/* Reads one reply; returns its payload size or -1 on EOF/timeout. */
static int raw_reply(int fd, uint32_t request, void *payload, size_t size) {
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	if (poll(&pfd, 1, TIMEOUT_MS) != 1) {
		return -1;
	}
	struct tessera_vhost_user_header hdr;
	if (recv(fd, &hdr, sizeof(hdr), MSG_WAITALL) != sizeof(hdr)) {
		return -1;
	}
	REQUIRE(hdr.request == request);
	REQUIRE(hdr.flags == (V | TESSERA_VHOST_USER_FLAG_REPLY));
	REQUIRE(hdr.size <= size);
	if (hdr.size > 0 &&
			recv(fd, payload, hdr.size, MSG_WAITALL) != (ssize_t)hdr.size) {
		return -1;
	}
	return (int)hdr.size;
}

static bool alive(int fd) {
	uint64_t features = 0;
	raw_send(fd, TESSERA_VHOST_USER_GET_FEATURES, V, NULL, 0, NULL, 0);
	return raw_reply(fd, TESSERA_VHOST_USER_GET_FEATURES, &features,
		sizeof(features)) == 8 && features != 0;
}

/* The backend closes the connection (after any replies still queued). */
static bool dropped(int fd) {
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		if (poll(&pfd, 1, TIMEOUT_MS) != 1) {
			return false;
		}
		char buf[256];
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n == 0 || (n < 0 && errno == ECONNRESET)) {
			return true;
		}
		if (n < 0 && errno != EINTR) {
			return false;
		}
	}
}

static void enable_reply_ack(int fd) {
	uint64_t pf = UINT64_C(1) << TESSERA_VHOST_USER_PROTOCOL_F_REPLY_ACK;
	raw_send(fd, TESSERA_VHOST_USER_SET_PROTOCOL_FEATURES, V, &pf, 8, NULL, 0);
}

static int make_memfd(uint64_t size) {
	int fd = memfd_create("test-ram", MFD_CLOEXEC);
	REQUIRE(fd >= 0);
	REQUIRE(ftruncate(fd, (off_t)size) == 0);
	return fd;
}

static void send_mem_table(int fd, uint32_t nregions, uint32_t size,
		const struct tessera_vhost_user_memory_region *regions,
		const int *fds, size_t nfds, uint32_t flags) {
	struct tessera_vhost_user_memory table = { .nregions = nregions };
	for (uint32_t i = 0; i < nregions && i < 8; i++) {
		table.regions[i] = regions[i];
	}
	union tessera_vhost_user_payload payload;
	memset(&payload, 0, sizeof(payload));
	memcpy(&payload, &table, sizeof(table));
	raw_send(fd, TESSERA_VHOST_USER_SET_MEM_TABLE, flags, &payload, size, fds,
		nfds);
}

static uint32_t table_size(uint32_t n) {
	return 8 + 32 * n;
}

/* ---- the malformed messages ---- */

static void bad_oversized(int fd) {
	raw_send(fd, TESSERA_VHOST_USER_GET_FEATURES, V, NULL, 0, NULL, 0);
	struct tessera_vhost_user_header hdr = {
		TESSERA_VHOST_USER_SET_FEATURES, V, 5000 };
	raw_send_parts(fd, &hdr, NULL, 0, NULL, 0);
}

static void bad_huge_size(int fd) {
	struct tessera_vhost_user_header hdr = {
		TESSERA_VHOST_USER_SET_MEM_TABLE, V, UINT32_MAX };
	raw_send_parts(fd, &hdr, NULL, 0, NULL, 0);
}

static void bad_version(int fd) {
	raw_send(fd, TESSERA_VHOST_USER_GET_FEATURES, 0, NULL, 0, NULL, 0);
}

static void bad_queue_index(int fd) {
	struct tessera_vhost_user_vring_state s = { 5, 256 };
	raw_send(fd, TESSERA_VHOST_USER_SET_VRING_NUM, V, &s, sizeof(s), NULL, 0);
}

static void bad_queue_index_addr(int fd) {
	struct tessera_vhost_user_vring_addr a = { .index = 2 };
	raw_send(fd, TESSERA_VHOST_USER_SET_VRING_ADDR, V, &a, sizeof(a), NULL, 0);
}

static void bad_kick_index(int fd) {
	int efd = make_memfd(4096); /* any fd */
	uint64_t v = 200;
	raw_send(fd, TESSERA_VHOST_USER_SET_VRING_KICK, V, &v, 8, &efd, 1);
	close(efd);
}

static void bad_call_nofd_with_fd(int fd) {
	int efd = make_memfd(4096);
	uint64_t v = TESSERA_VHOST_USER_VRING_NOFD;
	raw_send(fd, TESSERA_VHOST_USER_SET_VRING_CALL, V, &v, 8, &efd, 1);
	close(efd);
}

static void bad_call_missing_fd(int fd) {
	uint64_t v = 1;
	raw_send(fd, TESSERA_VHOST_USER_SET_VRING_CALL, V, &v, 8, NULL, 0);
}

static void bad_too_many_fds(int fd) {
	int fds[9];
	for (int i = 0; i < 9; i++) {
		fds[i] = make_memfd(4096);
	}
	uint64_t v = 0;
	raw_send(fd, TESSERA_VHOST_USER_SET_VRING_CALL, V, &v, 8, fds, 9);
	for (int i = 0; i < 9; i++) {
		close(fds[i]);
	}
}

static const struct tessera_vhost_user_memory_region two_regions[2] = {
	{ .guest_addr = 0, .size = 0x10000, .user_addr = 0x10000000,
		.mmap_offset = 0 },
	{ .guest_addr = 0x100000, .size = 0x10000, .user_addr = 0x20000000,
		.mmap_offset = 0x10000 },
};

static void bad_mem_table_fewer_fds(int fd) {
	int mfd = make_memfd(0x20000);
	send_mem_table(fd, 2, table_size(2), two_regions, &mfd, 1, V);
	close(mfd);
}

static void bad_mem_table_more_fds(int fd) {
	int mfd[2] = { make_memfd(0x20000), make_memfd(0x20000) };
	send_mem_table(fd, 1, table_size(1), two_regions, mfd, 2, V);
	close(mfd[0]);
	close(mfd[1]);
}

static void bad_mem_table_zero_size(int fd) {
	int mfd = make_memfd(0x20000);
	struct tessera_vhost_user_memory_region r = two_regions[0];
	r.size = 0;
	send_mem_table(fd, 1, table_size(1), &r, &mfd, 1, V);
	close(mfd);
}

static void bad_mem_table_nine_regions(int fd) {
	int fds[9];
	struct tessera_vhost_user_memory_region regions[8];
	for (int i = 0; i < 9; i++) {
		fds[i] = make_memfd(0x1000);
	}
	for (int i = 0; i < 8; i++) {
		regions[i] = (struct tessera_vhost_user_memory_region){
			.guest_addr = 0x1000 * (uint64_t)i, .size = 0x1000,
			.user_addr = 0x10000000 + 0x1000 * (uint64_t)i };
	}
	send_mem_table(fd, 9, table_size(9), regions, fds, 8, V);
	for (int i = 0; i < 9; i++) {
		close(fds[i]);
	}
}

static void bad_mem_table_no_regions(int fd) {
	send_mem_table(fd, 0, table_size(0), NULL, NULL, 0, V);
}

static void bad_mem_table_short_payload(int fd) {
	int mfd[2] = { make_memfd(0x20000), make_memfd(0x20000) };
	send_mem_table(fd, 2, table_size(1), two_regions, mfd, 2, V);
	close(mfd[0]);
	close(mfd[1]);
}

static void bad_mem_table_beyond_file(int fd) {
	int mfd = make_memfd(0x8000); /* region needs 0x10000 */
	send_mem_table(fd, 1, table_size(1), two_regions, &mfd, 1, V);
	close(mfd);
}

static void bad_mem_table_pipe(int fd) {
	int p[2];
	REQUIRE(pipe(p) == 0);
	send_mem_table(fd, 1, table_size(1), two_regions, &p[0], 1, V);
	close(p[0]);
	close(p[1]);
}

static void bad_mem_table_wraps(int fd) {
	int mfd = make_memfd(0x10000);
	struct tessera_vhost_user_memory_region r = two_regions[0];
	r.guest_addr = UINT64_MAX - 0x100;
	send_mem_table(fd, 1, table_size(1), &r, &mfd, 1, V);
	close(mfd);
}

static void bad_vring_num(int fd) {
	struct tessera_vhost_user_vring_state s = { 0, 3 };
	raw_send(fd, TESSERA_VHOST_USER_SET_VRING_NUM, V, &s, sizeof(s), NULL, 0);
}

static void bad_vring_num_large(int fd) {
	struct tessera_vhost_user_vring_state s = { 0, 65536 };
	raw_send(fd, TESSERA_VHOST_USER_SET_VRING_NUM, V, &s, sizeof(s), NULL, 0);
}

static void bad_config_size(int fd) {
	uint8_t payload[12 + 300] = {0};
	uint32_t size = 300;
	memcpy(payload + 4, &size, 4);
	raw_send(fd, TESSERA_VHOST_USER_GET_CONFIG, V, payload, sizeof(payload),
		NULL, 0);
}

static void bad_config_mismatch(int fd) {
	uint8_t payload[12 + 16] = {0};
	uint32_t size = 8; /* but 16 bytes follow */
	memcpy(payload + 4, &size, 4);
	raw_send(fd, TESSERA_VHOST_USER_GET_CONFIG, V, payload, sizeof(payload),
		NULL, 0);
}

static void bad_features_size(int fd) {
	uint32_t v = 1;
	raw_send(fd, TESSERA_VHOST_USER_SET_FEATURES, V, &v, 4, NULL, 0);
}

static void bad_truncated(int fd) {
	struct tessera_vhost_user_header hdr = {
		TESSERA_VHOST_USER_SET_FEATURES, V, 8 };
	uint32_t half = 0;
	raw_send_parts(fd, &hdr, &half, 4, NULL, 0);
	shutdown(fd, SHUT_WR);
}

static void bad_truncated_header(int fd) {
	uint32_t request = TESSERA_VHOST_USER_GET_FEATURES;
	REQUIRE(send(fd, &request, sizeof(request), MSG_NOSIGNAL) == 4);
	shutdown(fd, SHUT_WR);
}

static void bad_gpu_socket_without_fd(int fd) {
	raw_send(fd, TESSERA_VHOST_USER_GPU_SET_SOCKET, V, NULL, 0, NULL, 0);
}

/* A good memory table first (acknowledged, so mapped), then a bad
 * message: the mapping must go with the connection. */
static void bad_after_mem_table(int fd) {
	enable_reply_ack(fd);
	int mfd[2] = { make_memfd(0x20000), make_memfd(0x20000) };
	send_mem_table(fd, 2, table_size(2), two_regions, mfd, 2, V | NEED_REPLY);
	close(mfd[0]);
	close(mfd[1]);
	uint64_t status = 1;
	REQUIRE(raw_reply(fd, TESSERA_VHOST_USER_SET_MEM_TABLE, &status, 8) == 8);
	CHECK(status == 0);
	struct tessera_memory_table_stats stats;
	tessera_memory_table_get_stats(&stats);
	CHECK(stats.regions == 2 && stats.bytes == 0x20000);
	bad_queue_index(fd);
}

struct bad_case {
	const char *name;
	void (*send)(int fd);
};

static const struct bad_case bad_cases[] = {
	{ "oversized size field", bad_oversized },
	{ "size field UINT32_MAX", bad_huge_size },
	{ "bad version", bad_version },
	{ "bad queue index (SET_VRING_NUM)", bad_queue_index },
	{ "bad queue index (SET_VRING_ADDR)", bad_queue_index_addr },
	{ "bad queue index (SET_VRING_KICK)", bad_kick_index },
	{ "SET_VRING_CALL NOFD with an fd", bad_call_nofd_with_fd },
	{ "SET_VRING_CALL without fd", bad_call_missing_fd },
	{ "nine fds", bad_too_many_fds },
	{ "SET_MEM_TABLE with more regions than fds", bad_mem_table_fewer_fds },
	{ "SET_MEM_TABLE with more fds than regions", bad_mem_table_more_fds },
	{ "SET_MEM_TABLE zero-size region", bad_mem_table_zero_size },
	{ "SET_MEM_TABLE nine regions", bad_mem_table_nine_regions },
	{ "SET_MEM_TABLE no regions", bad_mem_table_no_regions },
	{ "SET_MEM_TABLE short payload", bad_mem_table_short_payload },
	{ "SET_MEM_TABLE region beyond its file", bad_mem_table_beyond_file },
	{ "SET_MEM_TABLE pipe as memory", bad_mem_table_pipe },
	{ "SET_MEM_TABLE wrapping region", bad_mem_table_wraps },
	{ "SET_VRING_NUM 3", bad_vring_num },
	{ "SET_VRING_NUM 65536", bad_vring_num_large },
	{ "GET_CONFIG of 300 bytes", bad_config_size },
	{ "GET_CONFIG size mismatch", bad_config_mismatch },
	{ "SET_FEATURES of 4 bytes", bad_features_size },
	{ "truncated payload", bad_truncated },
	{ "truncated header", bad_truncated_header },
	{ "GPU_SET_SOCKET without fd", bad_gpu_socket_without_fd },
	{ "bad message after a memory table", bad_after_mem_table },
};

static void check_clean(int fds_before) {
	struct tessera_memory_table_stats stats;
	tessera_memory_table_get_stats(&stats);
	CHECK(stats.regions == 0 && stats.bytes == 0);
	CHECK(test_count_fds() == fds_before);
}

static void good_session(void) {
	int disconnects = atomic_load(&dev.disconnects);
	struct tessera_vhost_user_frontend_options opts = {
		.num_queues = 2, .split_regions = true, .ram_size = 1 << 20,
	};
	char err[256];
	struct tessera_vhost_user_frontend *fe =
		tessera_vhost_user_frontend_connect(socket_path, &opts, err,
			sizeof(err));
	if (fe == NULL) {
		fprintf(stderr, "good session: %s\n", err);
	}
	REQUIRE(fe != NULL);
	uint64_t gpa;
	void *host;
	REQUIRE(tessera_vhost_user_frontend_alloc(fe, 64, 64, &gpa, &host) == 0);
	memset(host, 0x11, 64);
	struct tessera_virtqueue_buffer bufs[2] = { { gpa, 16 }, { gpa + 16, 16 } };
	REQUIRE(tessera_vhost_user_frontend_submit(fe, 0, bufs, 1, 1, NULL) >= 0);
	REQUIRE(tessera_vhost_user_frontend_kick(fe, 0, false) == 0);
	uint32_t len = 0;
	void *data;
	int r;
	while ((r = tessera_vhost_user_frontend_reap(fe, 0, &len, &data)) == 0) {
		REQUIRE(tessera_vhost_user_frontend_wait_call(fe, 0, TIMEOUT_MS) == 1);
	}
	CHECK(r == 1 && len == 16);
	CHECK(((uint8_t *)host)[16] == (0x11 ^ TEST_DEVICE_XOR));
	tessera_vhost_user_frontend_destroy(fe);
	REQUIRE(test_device_wait_disconnects(&dev, disconnects + 1));
}

static void run_bad_case(const struct bad_case *c) {
	int fds_before = test_count_fds();
	int disconnects = atomic_load(&dev.disconnects);
	int fd = raw_connect();
	if (!alive(fd)) {
		fprintf(stderr, "%s: backend not answering\n", c->name);
		test_failures++;
	}
	c->send(fd);
	if (!dropped(fd)) {
		fprintf(stderr, "%s: connection not dropped\n", c->name);
		test_failures++;
	}
	close(fd);
	REQUIRE(test_device_wait_disconnects(&dev, disconnects + 1));
	check_clean(fds_before);
}

/* Errors that are answered, not fatal. */
static void non_fatal(void) {
	int fds_before = test_count_fds();
	int disconnects = atomic_load(&dev.disconnects);
	int fd = raw_connect();
	enable_reply_ack(fd);

	/* unknown request: failure status, connection kept */
	uint64_t status = 0;
	raw_send(fd, 99, V | NEED_REPLY, NULL, 0, NULL, 0);
	CHECK(raw_reply(fd, 99, &status, 8) == 8 && status != 0);
	CHECK(alive(fd));
	/* unsupported known request with an fd: closed, failure status */
	int mfd = make_memfd(4096);
	uint64_t zero = 0;
	raw_send(fd, TESSERA_VHOST_USER_SET_LOG_FD, V | NEED_REPLY, &zero, 8,
		&mfd, 1);
	close(mfd);
	CHECK(raw_reply(fd, TESSERA_VHOST_USER_SET_LOG_FD, &status, 8) == 8 &&
		status != 0);
	/* SET_VRING_ENABLE with a bad value */
	struct tessera_vhost_user_vring_state s = { 0, 7 };
	raw_send(fd, TESSERA_VHOST_USER_SET_VRING_ENABLE, V | NEED_REPLY, &s,
		sizeof(s), NULL, 0);
	CHECK(raw_reply(fd, TESSERA_VHOST_USER_SET_VRING_ENABLE, &status, 8) == 8
		&& status != 0);
	/* GET_CONFIG outside the config space: empty reply */
	uint8_t config[12 + 8] = {0};
	uint32_t offset = 12, size = 8;
	memcpy(config, &offset, 4);
	memcpy(config + 4, &size, 4);
	raw_send(fd, TESSERA_VHOST_USER_GET_CONFIG, V, config, sizeof(config),
		NULL, 0);
	CHECK(raw_reply(fd, TESSERA_VHOST_USER_GET_CONFIG, config,
		sizeof(config)) == 0);
	/* successful requests are acknowledged with 0 */
	raw_send(fd, TESSERA_VHOST_USER_SET_OWNER, V | NEED_REPLY, NULL, 0, NULL, 0);
	CHECK(raw_reply(fd, TESSERA_VHOST_USER_SET_OWNER, &status, 8) == 8 &&
		status == 0);
	uint64_t queues = 0;
	raw_send(fd, TESSERA_VHOST_USER_GET_QUEUE_NUM, V, NULL, 0, NULL, 0);
	CHECK(raw_reply(fd, TESSERA_VHOST_USER_GET_QUEUE_NUM, &queues, 8) == 8 &&
		queues == 2);
	/* GET_VRING_BASE of a queue never started: its base */
	s = (struct tessera_vhost_user_vring_state){ 1, 77 };
	raw_send(fd, TESSERA_VHOST_USER_SET_VRING_BASE, V, &s, sizeof(s), NULL, 0);
	s.num = 0;
	raw_send(fd, TESSERA_VHOST_USER_GET_VRING_BASE, V, &s, sizeof(s), NULL, 0);
	CHECK(raw_reply(fd, TESSERA_VHOST_USER_GET_VRING_BASE, &s, sizeof(s)) == 8
		&& s.index == 1 && s.num == 77);

	/* GPU_SET_SOCKET: kept open until the connection ends */
	int gpu[2];
	REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, gpu) == 0);
	raw_send(fd, TESSERA_VHOST_USER_GPU_SET_SOCKET, V | NEED_REPLY, NULL, 0,
		&gpu[1], 1);
	close(gpu[1]);
	CHECK(raw_reply(fd, TESSERA_VHOST_USER_GPU_SET_SOCKET, &status, 8) == 8 &&
		status == 0);
	struct pollfd pfd = { .fd = gpu[0], .events = POLLIN };
	CHECK(poll(&pfd, 1, 0) == 0);
	/* SET_BACKEND_REQ_FD: accepted and closed */
	int req[2];
	REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, req) == 0);
	raw_send(fd, TESSERA_VHOST_USER_SET_BACKEND_REQ_FD, V | NEED_REPLY, NULL, 0,
		&req[1], 1);
	close(req[1]);
	CHECK(raw_reply(fd, TESSERA_VHOST_USER_SET_BACKEND_REQ_FD, &status, 8) == 8
		&& status == 0);
	struct pollfd rpfd = { .fd = req[0], .events = POLLIN };
	CHECK(poll(&rpfd, 1, TIMEOUT_MS) == 1 && (rpfd.revents & POLLHUP));
	close(req[0]);

	close(fd);
	REQUIRE(test_device_wait_disconnects(&dev, disconnects + 1));
	CHECK(poll(&pfd, 1, TIMEOUT_MS) == 1 && (pfd.revents & POLLHUP));
	close(gpu[0]);
	check_clean(fds_before);
}

int main(void) {
	tessera_log_init(getenv("TESSERA_TEST_DEBUG") ? TESSERA_DEBUG : TESSERA_SILENT, NULL);
	snprintf(socket_dir, sizeof(socket_dir), "/tmp/tessera-vhost-XXXXXX");
	REQUIRE(mkdtemp(socket_dir) != NULL);
	snprintf(socket_path, sizeof(socket_path), "%s/vmd.sock", socket_dir);
	test_device_init(&dev, socket_path);
	test_device_start(&dev);

	good_session();
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		run_bad_case(&bad_cases[i]);
	}
	non_fatal();
	/* the backend is alive and serves a good frontend */
	good_session();
	CHECK(atomic_load(&dev.connects) == atomic_load(&dev.disconnects));

	test_device_finish(&dev);
	rmdir(socket_dir);
	return test_finish("vhost-user-malformed");
}
