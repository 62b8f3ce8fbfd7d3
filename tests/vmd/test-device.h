/*
 * A tiny virtio device for the vhost-user tests, shaped like virtio-gpu
 * (2 queues, struct virtio_gpu_config) without its commands:
 *
 * queue 0 (echo): every chain's readable bytes are XORed with 0x5a and
 *   written to its writable part; the rest of the writable part is filled
 *   with (offset & 0xff); used length = writable length. Commands (the
 *   readable part starts with):
 *     "RELEASE"     first pop what queue 1 has, then complete every element
 *                   held on queue 1 (used length 0);
 *     "DISCONNECT"  drop the connection from inside the callback.
 * queue 1 (hold): chains are popped and held until RELEASE.
 *
 * The backend runs in its own thread in the tests; counters are atomic.
 */
#ifndef TESSERA_TESTS_VMD_TEST_DEVICE_H
#define TESSERA_TESTS_VMD_TEST_DEVICE_H

#include <linux/virtio_gpu.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "vhost-user.h"

#define TEST_DEVICE_MAX_HELD 64
#define TEST_DEVICE_XOR 0x5a

struct test_device {
	struct tessera_vhost_user_backend *backend;
	struct wl_event_loop *loop;
	struct virtio_gpu_config config;
	struct tessera_virtqueue_element *elem;

	uint16_t held[TEST_DEVICE_MAX_HELD];
	size_t nheld;

	atomic_int kicks[2];
	atomic_int echoed;
	atomic_int stops;
	atomic_int resets;
	atomic_int memory_changes;
	atomic_int connects;
	atomic_int disconnects;
	atomic_int held_count;
	_Atomic uint64_t features;

	struct wl_listener connect;
	struct wl_listener disconnect;

	pthread_t thread;
	int stop_fd;
	struct wl_event_source *stop_source;
	atomic_bool running;
};

extern const struct tessera_vhost_user_device_impl test_device_impl;

/* Creates the loop, device and backend; listens on path if not NULL. */
void test_device_init(struct test_device *dev, const char *path);
/* Runs the event loop in a thread until test_device_finish(). */
void test_device_start(struct test_device *dev);
void test_device_finish(struct test_device *dev);
/* Waits (≤ 10 s) until dev->disconnects reaches n; false on timeout. */
bool test_device_wait_disconnects(struct test_device *dev, int n);

#endif
