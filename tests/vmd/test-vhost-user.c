/* vhost-user backend + frontend end to end over real UNIX sockets: the
 * backend (with the test device) runs its wl_event_loop in a thread, the
 * frontend plays VMM and guest driver in the main thread. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "memory-table.h"
#include "test-device.h"
#include "tessera-test.h"
#include "vhost-user-frontend.h"
#include "vhost-user-proto.h"

#define BIT(n) (UINT64_C(1) << (n))
#define TIMEOUT_MS 10000

static char socket_dir[64];
static char socket_path[128];

static void check_no_mappings(void) {
	struct tessera_memory_table_stats stats;
	tessera_memory_table_get_stats(&stats);
	CHECK(stats.regions == 0);
	CHECK(stats.bytes == 0);
}

static struct tessera_vhost_user_frontend *connect_frontend(
		const struct tessera_vhost_user_frontend_options *opts) {
	char err[256];
	struct tessera_vhost_user_frontend *fe =
		tessera_vhost_user_frontend_connect(socket_path, opts, err, sizeof(err));
	if (fe == NULL) {
		fprintf(stderr, "connect: %s\n", err);
	}
	REQUIRE(fe != NULL);
	return fe;
}

/* Allocates a buffer, in the high region if asked (split RAM): the low
 * region is filled up first, then the fillers are freed again. */
static uint64_t alloc_buffer(struct tessera_vhost_user_frontend *fe,
		uint64_t size, bool high, uint8_t **host) {
	uint64_t fillers[1024];
	size_t nfillers = 0;
	uint64_t gpa;
	void *p;
	for (uint64_t chunk = UINT64_C(1) << 30; high && chunk >= 64;) {
		if (tessera_vhost_user_frontend_alloc(fe, chunk, 64, &gpa, &p) != 0) {
			chunk /= 2;
			continue;
		}
		if (gpa >= TESSERA_VHOST_USER_FRONTEND_HIGH_GPA) {
			tessera_vhost_user_frontend_free(fe, gpa);
			chunk /= 2;
			continue;
		}
		REQUIRE(nfillers < 1024);
		fillers[nfillers++] = gpa;
	}
	REQUIRE(tessera_vhost_user_frontend_alloc(fe, size, 64, &gpa, &p) == 0);
	REQUIRE(!high || gpa >= TESSERA_VHOST_USER_FRONTEND_HIGH_GPA);
	for (size_t i = 0; i < nfillers; i++) {
		tessera_vhost_user_frontend_free(fe, fillers[i]);
	}
	*host = p;
	return gpa;
}

/* Waits until `count` used elements were reaped from queue; returns the
 * number of call notifications seen. */
static int reap_all(struct tessera_vhost_user_frontend *fe, uint32_t queue,
		int count, uint32_t *lens, void **datas) {
	int reaped = 0, calls = 0;
	while (reaped < count) {
		uint32_t len;
		void *data;
		int r = tessera_vhost_user_frontend_reap(fe, queue, &len, &data);
		REQUIRE(r >= 0);
		if (r == 1) {
			if (lens != NULL) {
				lens[reaped] = len;
			}
			if (datas != NULL) {
				datas[reaped] = data;
			}
			reaped++;
			continue;
		}
		int w = tessera_vhost_user_frontend_wait_call(fe, queue, TIMEOUT_MS);
		if (w != 1) {
			fprintf(stderr, "queue %u: no notification (%d reaped of %d)\n",
				queue, reaped, count);
			REQUIRE(w == 1);
		}
		calls++;
	}
	return calls;
}

/* One chain: 2 readable buffers (low and high memory) + 1 writable. */
static void echo_once(struct tessera_vhost_user_frontend *fe, bool split,
		size_t a_len, size_t b_len, size_t c_len) {
	uint8_t *a, *b, *c;
	uint64_t a_gpa = alloc_buffer(fe, a_len, false, &a);
	uint64_t b_gpa = alloc_buffer(fe, b_len, split, &b);
	uint64_t c_gpa = alloc_buffer(fe, c_len, split, &c);
	for (size_t i = 0; i < a_len; i++) {
		a[i] = (uint8_t)(i * 7 + 1);
	}
	for (size_t i = 0; i < b_len; i++) {
		b[i] = (uint8_t)(i * 13 + 5);
	}
	memset(c, 0xee, c_len);

	struct tessera_virtqueue_buffer bufs[3] = {
		{ a_gpa, (uint32_t)a_len }, { b_gpa, (uint32_t)b_len },
		{ c_gpa, (uint32_t)c_len },
	};
	int tag;
	REQUIRE(tessera_vhost_user_frontend_submit(fe, 0, bufs, 2, 1, &tag) >= 0);
	REQUIRE(tessera_vhost_user_frontend_kick(fe, 0, false) == 0);
	uint32_t len;
	void *data;
	reap_all(fe, 0, 1, &len, &data);
	CHECK(data == &tag);
	CHECK(len == c_len);
	bool ok = true;
	for (size_t i = 0; i < c_len; i++) {
		uint8_t want;
		if (i < a_len) {
			want = a[i] ^ TEST_DEVICE_XOR;
		} else if (i < a_len + b_len) {
			want = b[i - a_len] ^ TEST_DEVICE_XOR;
		} else {
			want = (uint8_t)i;
		}
		if (c[i] != want) {
			ok = false;
		}
	}
	CHECK(ok);
	tessera_vhost_user_frontend_free(fe, a_gpa);
	tessera_vhost_user_frontend_free(fe, b_gpa);
	tessera_vhost_user_frontend_free(fe, c_gpa);
}

static void echo_batch(struct tessera_vhost_user_frontend *fe, int n) {
	uint64_t gpas[64];
	uint8_t *hosts[64];
	int tags[64];
	REQUIRE(n <= 64);
	for (int i = 0; i < n; i++) {
		gpas[i] = alloc_buffer(fe, 64, false, &hosts[i]);
		memset(hosts[i], i, 32);
		struct tessera_virtqueue_buffer bufs[2] = {
			{ gpas[i], 32 }, { gpas[i] + 32, 32 },
		};
		tags[i] = i;
		REQUIRE(tessera_vhost_user_frontend_submit(fe, 0, bufs, 1, 1,
			&tags[i]) >= 0);
	}
	REQUIRE(tessera_vhost_user_frontend_kick(fe, 0, false) == 0);
	uint32_t lens[64];
	void *datas[64];
	reap_all(fe, 0, n, lens, datas);
	for (int i = 0; i < n; i++) {
		int t = *(int *)datas[i];
		CHECK(lens[i] == 32);
		CHECK(hosts[t][32] == (uint8_t)(t ^ TEST_DEVICE_XOR));
		CHECK(hosts[t][63] == (uint8_t)(t ^ TEST_DEVICE_XOR));
	}
	for (int i = 0; i < n; i++) {
		tessera_vhost_user_frontend_free(fe, gpas[i]);
	}
}

static void submit_command(struct tessera_vhost_user_frontend *fe,
		const char *cmd, bool wait) {
	uint8_t *host;
	uint64_t gpa = alloc_buffer(fe, 64, false, &host);
	memset(host, 0, 64);
	strcpy((char *)host, cmd);
	struct tessera_virtqueue_buffer bufs[2] = { { gpa, 32 }, { gpa + 32, 32 } };
	REQUIRE(tessera_vhost_user_frontend_submit(fe, 0, bufs, 1, 1, NULL) >= 0);
	REQUIRE(tessera_vhost_user_frontend_kick(fe, 0, true) == 0);
	if (wait) {
		reap_all(fe, 0, 1, NULL, NULL);
	}
	tessera_vhost_user_frontend_free(fe, gpa);
}

struct session_options {
	bool split;
	bool no_event_idx;
	bool no_indirect;
};

static void run_session(struct test_device *dev, const struct session_options *so) {
	int fds_before = test_count_fds();
	int disconnects = atomic_load(&dev->disconnects);
	int resets = atomic_load(&dev->resets);
	check_no_mappings();

	struct tessera_vhost_user_frontend_options opts = {
		.ram_size = 8 << 20,
		.split_regions = so->split,
		.num_queues = 2,
		.queue_size = 128,
		.device_features = BIT(VIRTIO_GPU_F_EDID) | BIT(VIRTIO_GPU_F_VIRGL),
		.no_event_idx = so->no_event_idx,
		.no_indirect = so->no_indirect,
	};
	struct tessera_vhost_user_frontend *fe = connect_frontend(&opts);

	/* negotiation */
	uint64_t features = tessera_vhost_user_frontend_features(fe);
	CHECK(features & BIT(VIRTIO_F_VERSION_1));
	CHECK(features & BIT(TESSERA_VHOST_USER_F_PROTOCOL_FEATURES));
	CHECK(features & BIT(VIRTIO_GPU_F_EDID));
	CHECK(!(features & BIT(VIRTIO_GPU_F_VIRGL))); /* not offered */
	CHECK(!(features & BIT(40))); /* transport bit from the device */
	CHECK(!!(features & BIT(VIRTIO_RING_F_EVENT_IDX)) == !so->no_event_idx);
	CHECK(!!(features & BIT(VIRTIO_RING_F_INDIRECT_DESC)) == !so->no_indirect);
	CHECK(atomic_load(&dev->features) == features);
	CHECK(tessera_vhost_user_frontend_protocol_features(fe) ==
		(BIT(TESSERA_VHOST_USER_PROTOCOL_F_REPLY_ACK) |
		BIT(TESSERA_VHOST_USER_PROTOCOL_F_CONFIG)));

	/* the backend mapped guest RAM (SET_MEM_TABLE was acknowledged) */
	struct tessera_memory_table_stats stats;
	tessera_memory_table_get_stats(&stats);
	CHECK(stats.regions == (so->split ? 2 : 1));
	CHECK(stats.bytes == opts.ram_size);

	/* configuration space */
	struct virtio_gpu_config config;
	REQUIRE(tessera_vhost_user_frontend_get_config(fe, 0, &config,
		sizeof(config)) == 0);
	CHECK(config.events_read == VIRTIO_GPU_EVENT_DISPLAY);
	CHECK(config.num_scanouts == 1);
	CHECK(config.num_capsets == 0);
	uint32_t clear = VIRTIO_GPU_EVENT_DISPLAY;
	CHECK(tessera_vhost_user_frontend_set_config(fe,
		offsetof(struct virtio_gpu_config, events_clear), &clear, 4) == 0);
	uint32_t value = 0;
	CHECK(tessera_vhost_user_frontend_get_config(fe,
		offsetof(struct virtio_gpu_config, events_read), &value, 4) == 0);
	CHECK(value == 0);
	/* read-only field: refused, connection kept */
	CHECK(tessera_vhost_user_frontend_set_config(fe,
		offsetof(struct virtio_gpu_config, num_scanouts), &clear, 4) == -1);
	/* outside the config space: empty reply */
	CHECK(tessera_vhost_user_frontend_get_config(fe, 12, &value, 8) == -1);

	/* echo on queue 0 */
	echo_once(fe, so->split, 100, 50, 200);
	echo_once(fe, so->split, 4096, 8000, 30000);
	echo_batch(fe, 40);

	/* SET_VRING_CALL replaced mid-run: the old eventfd stays quiet */
	int old_call = dup(tessera_vhost_user_frontend_call_fd(fe, 0));
	REQUIRE(old_call >= 0);
	uint64_t counter;
	if (read(old_call, &counter, sizeof(counter)) < 0) {
		/* nothing pending: fine */
	}
	REQUIRE(tessera_vhost_user_frontend_replace_call(fe, 0) == 0);
	CHECK(tessera_vhost_user_frontend_call_fd(fe, 0) != old_call);
	echo_once(fe, so->split, 10, 10, 30);
	echo_batch(fe, 8);
	CHECK(read(old_call, &counter, sizeof(counter)) == -1 && errno == EAGAIN);
	close(old_call);

	/* held elements on queue 1, completed from queue 0 */
	uint8_t *h;
	uint64_t h_gpa = alloc_buffer(fe, 64, false, &h);
	struct tessera_virtqueue_buffer hb[2] = { { h_gpa, 16 }, { h_gpa + 16, 16 } };
	int held_tags[2];
	REQUIRE(tessera_vhost_user_frontend_submit(fe, 1, &hb[0], 1, 0,
		&held_tags[0]) >= 0);
	REQUIRE(tessera_vhost_user_frontend_submit(fe, 1, &hb[1], 0, 1,
		&held_tags[1]) >= 0);
	REQUIRE(tessera_vhost_user_frontend_kick(fe, 1, false) == 0);
	submit_command(fe, "RELEASE", true);
	void *datas[2];
	uint32_t lens[2];
	reap_all(fe, 1, 2, lens, datas);
	CHECK(lens[0] == 0 && lens[1] == 0);
	CHECK(datas[0] == &held_tags[0] && datas[1] == &held_tags[1]);
	CHECK(atomic_load(&dev->held_count) == 0);

	/* hold two more, then stop queue 1: the device forgets them */
	REQUIRE(tessera_vhost_user_frontend_submit(fe, 1, &hb[0], 1, 0, NULL) >= 0);
	REQUIRE(tessera_vhost_user_frontend_submit(fe, 1, &hb[1], 0, 1, NULL) >= 0);
	REQUIRE(tessera_vhost_user_frontend_kick(fe, 1, true) == 0);
	submit_command(fe, "PING", true); /* orders after the queue 1 kick */
	int stops = atomic_load(&dev->stops);
	uint16_t base = 0;
	REQUIRE(tessera_vhost_user_frontend_stop_queue(fe, 1, &base) == 0);
	CHECK(base == 4);
	CHECK(atomic_load(&dev->stops) == stops + 1);
	CHECK(atomic_load(&dev->held_count) == 0);
	/* queue 0 still works */
	echo_once(fe, so->split, 16, 16, 64);
	tessera_vhost_user_frontend_free(fe, h_gpa);

	/* disconnect: everything of this guest is freed */
	tessera_vhost_user_frontend_destroy(fe);
	REQUIRE(test_device_wait_disconnects(dev, disconnects + 1));
	CHECK(atomic_load(&dev->resets) == resets + 1);
	check_no_mappings();
	CHECK(test_count_fds() == fds_before);
}

/* A chain that loops breaks queue 0: the error eventfd fires; the
 * connection survives until the frontend leaves. */
static void broken_queue_session(struct test_device *dev) {
	int fds_before = test_count_fds();
	int disconnects = atomic_load(&dev->disconnects);
	struct tessera_vhost_user_frontend_options opts = { .num_queues = 2 };
	struct tessera_vhost_user_frontend *fe = connect_frontend(&opts);

	int err_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	REQUIRE(err_fd >= 0);
	uint64_t index = 0;
	REQUIRE(tessera_vhost_user_frontend_send(fe,
		TESSERA_VHOST_USER_SET_VRING_ERR,
		TESSERA_VHOST_USER_VERSION | TESSERA_VHOST_USER_FLAG_NEED_REPLY,
		&index, sizeof(index), &err_fd, 1) == 0);
	uint64_t status = 1;
	REQUIRE(tessera_vhost_user_frontend_receive(fe,
		TESSERA_VHOST_USER_SET_VRING_ERR, &status, sizeof(status)) == 8);
	CHECK(status == 0);

	/* write a self-looping descriptor straight into the ring */
	struct tessera_virtqueue_driver *drv =
		tessera_vhost_user_frontend_driver(fe, 0);
	uint8_t *buf;
	uint64_t gpa = alloc_buffer(fe, 64, false, &buf);
	uint8_t *d = drv->desc + 16 * 5;
	uint32_t len = 64;
	uint16_t flags = VRING_DESC_F_NEXT, next = 5, head = 5;
	memcpy(d, &gpa, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
	memcpy(drv->avail + 4 + 2 * (drv->avail_idx % drv->size), &head, 2);
	drv->avail_idx++;
	__atomic_store_n((uint16_t *)(drv->avail + 2), drv->avail_idx,
		__ATOMIC_RELEASE);
	REQUIRE(tessera_vhost_user_frontend_kick(fe, 0, true) == 0);

	struct pollfd pfd = { .fd = err_fd, .events = POLLIN };
	CHECK(poll(&pfd, 1, TIMEOUT_MS) == 1);
	uint64_t v;
	CHECK(read(err_fd, &v, sizeof(v)) == sizeof(v));
	close(err_fd);
	/* the connection is still served */
	struct virtio_gpu_config config;
	CHECK(tessera_vhost_user_frontend_get_config(fe, 0, &config,
		sizeof(config)) == 0);

	tessera_vhost_user_frontend_destroy(fe);
	REQUIRE(test_device_wait_disconnects(dev, disconnects + 1));
	check_no_mappings();
	CHECK(test_count_fds() == fds_before);
}

/* The device drops the connection from inside its queue callback. */
static void device_disconnect_session(struct test_device *dev) {
	int fds_before = test_count_fds();
	int disconnects = atomic_load(&dev->disconnects);
	struct tessera_vhost_user_frontend_options opts = { .num_queues = 2 };
	struct tessera_vhost_user_frontend *fe = connect_frontend(&opts);
	submit_command(fe, "DISCONNECT", false);
	REQUIRE(test_device_wait_disconnects(dev, disconnects + 1));
	check_no_mappings();
	/* the frontend sees the end of the connection */
	struct virtio_gpu_config config;
	CHECK(tessera_vhost_user_frontend_get_config(fe, 0, &config,
		sizeof(config)) == -1);
	tessera_vhost_user_frontend_destroy(fe);
	CHECK(test_count_fds() == fds_before);
}

/* A second frontend waits while one is connected, then is served. */
static void queued_connection(struct test_device *dev) {
	int disconnects = atomic_load(&dev->disconnects);
	struct tessera_vhost_user_frontend_options opts = { .num_queues = 2 };
	struct tessera_vhost_user_frontend *first = connect_frontend(&opts);

	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	REQUIRE(fd >= 0);
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	strcpy(addr.sun_path, socket_path);
	REQUIRE(connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0);
	/* not accepted yet: its request gets no answer while first is active */
	struct tessera_vhost_user_header hdr = {
		TESSERA_VHOST_USER_GET_FEATURES, TESSERA_VHOST_USER_VERSION, 0 };
	REQUIRE(send(fd, &hdr, sizeof(hdr), MSG_NOSIGNAL) == sizeof(hdr));
	echo_once(first, false, 8, 8, 16);
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	CHECK(poll(&pfd, 1, 0) == 0);

	tessera_vhost_user_frontend_destroy(first);
	REQUIRE(test_device_wait_disconnects(dev, disconnects + 1));
	/* now the waiting one is served */
	CHECK(poll(&pfd, 1, TIMEOUT_MS) == 1);
	struct tessera_vhost_user_header reply;
	uint64_t features = 0;
	CHECK(recv(fd, &reply, sizeof(reply), MSG_WAITALL) == sizeof(reply));
	CHECK(recv(fd, &features, sizeof(features), MSG_WAITALL) == 8);
	CHECK(features & BIT(VIRTIO_F_VERSION_1));
	close(fd);
	REQUIRE(test_device_wait_disconnects(dev, disconnects + 2));
}

/* A pre-connected socket (socketpair, the --fd convention). */
static void adopted_connection(void) {
	int fds_before = test_count_fds();
	int sv[2];
	REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	struct test_device dev;
	test_device_init(&dev, NULL);
	REQUIRE(tessera_vhost_user_backend_adopt(dev.backend, sv[0]) == 0);
	test_device_start(&dev);

	struct tessera_vhost_user_frontend_options opts = {
		.num_queues = 2, .split_regions = true, .ram_size = 4 << 20,
	};
	char err[256];
	struct tessera_vhost_user_frontend *fe =
		tessera_vhost_user_frontend_connect_fd(sv[1], &opts, err, sizeof(err));
	if (fe == NULL) {
		fprintf(stderr, "connect_fd: %s\n", err);
	}
	REQUIRE(fe != NULL);
	echo_once(fe, true, 300, 300, 1000);
	tessera_vhost_user_frontend_destroy(fe);
	REQUIRE(test_device_wait_disconnects(&dev, 1));
	CHECK(!tessera_vhost_user_backend_connected(dev.backend));
	test_device_finish(&dev);
	check_no_mappings();
	CHECK(test_count_fds() == fds_before);
}

static void socket_path_handling(void) {
	char path[160];
	snprintf(path, sizeof(path), "%s/other.sock", socket_dir);
	struct wl_event_loop *loop = wl_event_loop_create();
	REQUIRE(loop != NULL);
	struct tessera_vhost_user_backend *b =
		tessera_vhost_user_backend_create(loop, &test_device_impl, NULL);
	REQUIRE(b != NULL);

	/* a regular file is not replaced */
	FILE *f = fopen(path, "w");
	REQUIRE(f != NULL);
	fclose(f);
	CHECK(tessera_vhost_user_backend_listen(b, path) == -1);
	unlink(path);

	/* a stale socket is */
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	strcpy(addr.sun_path, path);
	REQUIRE(bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0);
	close(fd);
	CHECK(tessera_vhost_user_backend_listen(b, path) == 0);
	struct stat st;
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);

	/* a too long path */
	char long_path[200];
	memset(long_path, 'x', sizeof(long_path) - 1);
	long_path[sizeof(long_path) - 1] = '\0';
	struct tessera_vhost_user_backend *b2 =
		tessera_vhost_user_backend_create(loop, &test_device_impl, NULL);
	CHECK(tessera_vhost_user_backend_listen(b2, long_path) == -1);
	tessera_vhost_user_backend_destroy(b2);

	tessera_vhost_user_backend_destroy(b);
	CHECK(access(path, F_OK) != 0); /* removed on destroy */
	tessera_vhost_user_backend_destroy(NULL);

	/* invalid device descriptions */
	struct tessera_vhost_user_device_impl bad = test_device_impl;
	bad.num_queues = 9;
	CHECK(tessera_vhost_user_backend_create(loop, &bad, NULL) == NULL);
	bad.num_queues = 0;
	CHECK(tessera_vhost_user_backend_create(loop, &bad, NULL) == NULL);
	bad = test_device_impl;
	bad.config_size = 257;
	CHECK(tessera_vhost_user_backend_create(loop, &bad, NULL) == NULL);
	wl_event_loop_destroy(loop);
}

int main(void) {
	tessera_log_init(getenv("TESSERA_TEST_DEBUG") ? TESSERA_DEBUG : TESSERA_ERROR, NULL);
	snprintf(socket_dir, sizeof(socket_dir), "/tmp/tessera-vhost-XXXXXX");
	REQUIRE(mkdtemp(socket_dir) != NULL);
	snprintf(socket_path, sizeof(socket_path), "%s/vmd.sock", socket_dir);

	socket_path_handling();
	adopted_connection();

	struct test_device dev;
	test_device_init(&dev, socket_path);
	test_device_start(&dev);

	const struct session_options sessions[] = {
		{ .split = true },
		{ .split = false },
		{ .split = true, .no_event_idx = true },
		{ .split = false, .no_indirect = true },
		{ .split = true, .no_event_idx = true, .no_indirect = true },
	};
	for (size_t i = 0; i < sizeof(sessions) / sizeof(sessions[0]); i++) {
		run_session(&dev, &sessions[i]);
	}
	broken_queue_session(&dev);
	device_disconnect_session(&dev);
	queued_connection(&dev);
	/* and still a good session after all that */
	run_session(&dev, &sessions[0]);

	test_device_finish(&dev);
	check_no_mappings();
	CHECK(access(socket_path, F_OK) != 0);
	rmdir(socket_dir);
	return test_finish("vhost-user");
}
