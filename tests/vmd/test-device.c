#define _GNU_SOURCE
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "test-device.h"
#include "tessera-test.h"

static uint64_t device_get_features(void *data) {
	/* bit 40 (RING_RESET) is a transport bit: the backend must drop it */
	return (UINT64_C(1) << VIRTIO_GPU_F_EDID) | (UINT64_C(1) << 40);
}

static void device_set_features(void *data, uint64_t features) {
	struct test_device *dev = data;
	atomic_store(&dev->features, features);
}

static int device_get_config(void *data, uint32_t offset, void *buf,
		uint32_t size) {
	struct test_device *dev = data;
	memcpy(buf, (uint8_t *)&dev->config + offset, size);
	return 0;
}

static int device_set_config(void *data, uint32_t offset, const void *buf,
		uint32_t size, uint32_t flags) {
	struct test_device *dev = data;
	/* only events_clear is writable */
	if (offset != offsetof(struct virtio_gpu_config, events_clear) ||
			size != 4) {
		return -1;
	}
	uint32_t clear;
	memcpy(&clear, buf, 4);
	dev->config.events_read &= ~clear;
	return 0;
}

static void release_held(struct test_device *dev) {
	struct tessera_virtqueue *vq =
		tessera_vhost_user_backend_queue(dev->backend, 1);
	if (vq != NULL) {
		while (dev->nheld < TEST_DEVICE_MAX_HELD &&
				tessera_virtqueue_pop(vq, dev->elem) == 1) {
			dev->held[dev->nheld++] = dev->elem->head;
		}
	}
	for (size_t i = 0; i < dev->nheld; i++) {
		tessera_vhost_user_backend_queue_complete(dev->backend, 1,
			dev->held[i], 0);
	}
	dev->nheld = 0;
	atomic_store(&dev->held_count, 0);
}

static void echo(struct test_device *dev, struct tessera_virtqueue *vq) {
	struct tessera_virtqueue_element *elem = dev->elem;
	int r;
	while ((r = tessera_virtqueue_pop(vq, elem)) == 1) {
		char cmd[16] = {0};
		tessera_virtqueue_element_read(elem, 0, cmd, sizeof(cmd) - 1);
		if (strcmp(cmd, "DISCONNECT") == 0) {
			tessera_vhost_user_backend_disconnect(dev->backend);
			return;
		}
		bool release = strcmp(cmd, "RELEASE") == 0;

		uint8_t chunk[4096];
		uint64_t offset = 0;
		while (offset < elem->in_len) {
			size_t n = elem->in_len - offset < sizeof(chunk) ?
				(size_t)(elem->in_len - offset) : sizeof(chunk);
			size_t got = tessera_virtqueue_element_read(elem, offset, chunk, n);
			for (size_t i = 0; i < n; i++) {
				chunk[i] = i < got ? chunk[i] ^ TEST_DEVICE_XOR :
					(uint8_t)(offset + i);
			}
			tessera_virtqueue_element_write(elem, offset, chunk, n);
			offset += n;
		}
		tessera_virtqueue_push(vq, elem->head, (uint32_t)elem->in_len);
		atomic_fetch_add(&dev->echoed, 1);
		if (release) {
			release_held(dev);
		}
	}
	tessera_vhost_user_backend_queue_notify(dev->backend, 0);
}

static void device_queue_kick(void *data, uint32_t index,
		struct tessera_virtqueue *vq) {
	struct test_device *dev = data;
	atomic_fetch_add(&dev->kicks[index], 1);
	if (index == 0) {
		echo(dev, vq);
		return;
	}
	while (dev->nheld < TEST_DEVICE_MAX_HELD &&
			tessera_virtqueue_pop(vq, dev->elem) == 1) {
		dev->held[dev->nheld++] = dev->elem->head;
	}
	atomic_store(&dev->held_count, (int)dev->nheld);
}

static void device_queue_stop(void *data, uint32_t index) {
	struct test_device *dev = data;
	atomic_fetch_add(&dev->stops, 1);
	if (index == 1) {
		dev->nheld = 0;
		atomic_store(&dev->held_count, 0);
	}
}

static void device_memory_changed(void *data) {
	struct test_device *dev = data;
	atomic_fetch_add(&dev->memory_changes, 1);
}

static void device_reset(void *data) {
	struct test_device *dev = data;
	atomic_fetch_add(&dev->resets, 1);
	dev->nheld = 0;
	atomic_store(&dev->held_count, 0);
	dev->config.events_read = VIRTIO_GPU_EVENT_DISPLAY;
}

const struct tessera_vhost_user_device_impl test_device_impl = {
	.num_queues = 2,
	.config_size = sizeof(struct virtio_gpu_config),
	.get_features = device_get_features,
	.set_features = device_set_features,
	.get_config = device_get_config,
	.set_config = device_set_config,
	.queue_kick = device_queue_kick,
	.queue_stop = device_queue_stop,
	.memory_changed = device_memory_changed,
	.reset = device_reset,
};

static void handle_connect(struct wl_listener *listener, void *data) {
	struct test_device *dev = wl_container_of(listener, dev, connect);
	atomic_fetch_add(&dev->connects, 1);
}

static void handle_disconnect(struct wl_listener *listener, void *data) {
	struct test_device *dev = wl_container_of(listener, dev, disconnect);
	atomic_fetch_add(&dev->disconnects, 1);
}

static int handle_stop(int fd, uint32_t mask, void *data) {
	struct test_device *dev = data;
	uint64_t v;
	if (read(fd, &v, sizeof(v)) < 0) {
		/* nothing to do */
	}
	atomic_store(&dev->running, false);
	return 0;
}

void test_device_init(struct test_device *dev, const char *path) {
	memset(dev, 0, sizeof(*dev));
	dev->config.events_read = VIRTIO_GPU_EVENT_DISPLAY;
	dev->config.num_scanouts = 1;
	dev->elem = calloc(1, sizeof(*dev->elem));
	REQUIRE(dev->elem != NULL);
	dev->loop = wl_event_loop_create();
	REQUIRE(dev->loop != NULL);
	dev->backend = tessera_vhost_user_backend_create(dev->loop,
		&test_device_impl, dev);
	REQUIRE(dev->backend != NULL);
	dev->connect.notify = handle_connect;
	wl_signal_add(&dev->backend->events.connect, &dev->connect);
	dev->disconnect.notify = handle_disconnect;
	wl_signal_add(&dev->backend->events.disconnect, &dev->disconnect);
	if (path != NULL) {
		REQUIRE(tessera_vhost_user_backend_listen(dev->backend, path) == 0);
	}
	dev->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	REQUIRE(dev->stop_fd >= 0);
	dev->stop_source = wl_event_loop_add_fd(dev->loop, dev->stop_fd,
		WL_EVENT_READABLE, handle_stop, dev);
	REQUIRE(dev->stop_source != NULL);
}

static void *thread_main(void *data) {
	struct test_device *dev = data;
	while (atomic_load(&dev->running)) {
		wl_event_loop_dispatch(dev->loop, -1);
	}
	return NULL;
}

void test_device_start(struct test_device *dev) {
	atomic_store(&dev->running, true);
	REQUIRE(pthread_create(&dev->thread, NULL, thread_main, dev) == 0);
}

void test_device_finish(struct test_device *dev) {
	if (atomic_load(&dev->running)) {
		uint64_t one = 1;
		REQUIRE(write(dev->stop_fd, &one, sizeof(one)) == sizeof(one));
		pthread_join(dev->thread, NULL);
	}
	wl_list_remove(&dev->connect.link);
	wl_list_remove(&dev->disconnect.link);
	tessera_vhost_user_backend_destroy(dev->backend);
	wl_event_source_remove(dev->stop_source);
	close(dev->stop_fd);
	wl_event_loop_destroy(dev->loop);
	free(dev->elem);
}

bool test_device_wait_disconnects(struct test_device *dev, int n) {
	for (int i = 0; i < 10000; i++) {
		if (atomic_load(&dev->disconnects) >= n) {
			return true;
		}
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
	}
	return false;
}
