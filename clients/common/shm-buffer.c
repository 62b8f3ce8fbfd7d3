#define _GNU_SOURCE /* memfd_create */
#include <errno.h>
#include <inttypes.h>
#include <sys/mman.h>
#include <unistd.h>

#include "log.h"
#include "tessera-client.h"

bool tessera_client_shm_buffer_init(struct tessera_client_shm_buffer *buffer,
		struct wl_shm *shm, const char *name, int32_t width, int32_t height) {
	*buffer = (struct tessera_client_shm_buffer){0};
	int32_t stride = width * 4;
	size_t size = (size_t)stride * (size_t)height;
	if (size > INT32_MAX) {
		tessera_log(TESSERA_ERROR, "buffer %" PRId32 "x%" PRId32 " too large", width, height);
		return false;
	}
	int fd = memfd_create(name, MFD_CLOEXEC);
	if (fd < 0) {
		tessera_log_errno(TESSERA_ERROR, "cannot create a memfd");
		return false;
	}
	int ret;
	do {
		ret = ftruncate(fd, (off_t)size);
	} while (ret < 0 && errno == EINTR);
	if (ret < 0) {
		tessera_log_errno(TESSERA_ERROR, "cannot size the memfd");
		close(fd);
		return false;
	}
	void *data = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (data == MAP_FAILED) {
		tessera_log_errno(TESSERA_ERROR, "cannot map the buffer");
		close(fd);
		return false;
	}
	struct wl_shm_pool *pool = wl_shm_create_pool(shm, fd, (int32_t)size);
	buffer->wl_buffer = wl_shm_pool_create_buffer(pool, 0, width, height,
		stride, WL_SHM_FORMAT_XRGB8888);
	wl_shm_pool_destroy(pool);
	close(fd);
	buffer->data = data;
	buffer->size = size;
	buffer->width = width;
	buffer->height = height;
	return true;
}

void tessera_client_shm_buffer_finish(struct tessera_client_shm_buffer *buffer) {
	if (buffer->wl_buffer != NULL) {
		wl_buffer_destroy(buffer->wl_buffer);
	}
	if (buffer->data != NULL) {
		munmap(buffer->data, buffer->size);
	}
	*buffer = (struct tessera_client_shm_buffer){0};
}
