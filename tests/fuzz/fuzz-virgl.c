/*
 * libFuzzer target for tessera-vmd's virgl path (server/vmd/virgl.c and
 * resource.c in front of virglrenderer, on EGL surfaceless with Mesa's
 * llvmpipe): what a guest's virgl context sends, from the input. The
 * resource parameters go through the device's own checks
 * (vmd_resource_create_3d) before virglrenderer sees them, as in gpu.c.
 *
 * virglrenderer keeps one state per process: it is started once; each
 * input gets context 1 and at most MAX_RES resources, all gone at its end.
 *
 * Input: a script of operations, one byte each plus arguments,
 * little-endian:
 *
 *   0x01 SUBMIT    u16 n, then n 32-bit words of command stream
 *   0x02 CREATE    u8 slot, u8 target, u32 format, u32 bind, u16 width,
 *                  u16 height, u8 depth, u8 array_size, u8 last_level,
 *                  u8 nr_samples (RESOURCE_CREATE_3D + CTX_ATTACH)
 *   0x03 BACKING   u8 slot, u32 bytes (a heap buffer of at most 4 MiB)
 *   0x04 TRANSFER  u8 slot, u8 to_host, u16 x, y, z, w, h, d, u8 level,
 *                  u32 stride, u32 layer_stride, u32 offset
 *   0x05 UNREF     u8 slot
 *   0x06 FENCE     queues a fence and dispatches until it retires
 *   0x07 READ      u8 slot, u16 x, y, w, h (vmd_virgl_read, as a wire
 *                  buffer's commit reads)
 *
 * A slot is resource id slot % MAX_RES + 1. Checked: every call returns
 * OK or a virtio-gpu error code, fences retire in order within a bound.
 *
 * Built with clang -fsanitize=fuzzer by run-fuzz.sh (build-fuzz.sh), and
 * with the project compiler with fuzz-main.c to replay the committed
 * corpus (corpus/virgl, written by gen-virgl-seeds.c).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wayland-server-core.h>

#include "fuzz-target.h"
#include "log.h"
#include "resource.h"
#include "virgl.h"

#define MAX_RES 8
#define MAX_BACKING (UINT64_C(4) << 20)
#define CTX 1
/* dispatches (1 ms each) a fence may take */
#define FENCE_DISPATCHES 5000

static struct wl_event_loop *loop;
static struct vmd_virgl *virgl;
static struct vmd_resource_table table;
static struct tessera_vm_settings settings;
static uint32_t retired, queued;
static uint32_t words[65536];

struct backing {
	uint8_t *data;
	struct tessera_memory_mapping mapping;
};
static struct backing backings[MAX_RES];

static void handle_retired(void *data, uint32_t seq) {
	CHECK((int32_t)(seq - retired) > 0); /* in order, never twice */
	retired = seq;
}

static bool response_ok(uint32_t r) {
	return r == VIRTIO_GPU_RESP_OK_NODATA ||
		(r >= VIRTIO_GPU_RESP_ERR_UNSPEC && r <= VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
}

static void init(void) {
	tessera_log_init(getenv("FUZZ_VIRGL_LOG") ? TESSERA_DEBUG : TESSERA_SILENT, NULL);
	loop = wl_event_loop_create();
	CHECK(loop != NULL);
	virgl = vmd_virgl_create(loop, &(struct vmd_virgl_options){
		.retired = handle_retired,
	});
	CHECK(virgl != NULL);
	tessera_vm_settings_default(&settings);
	vmd_resource_table_init(&table);
}

static struct vmd_gpu_resource *slot(struct fuzz_input *in) {
	return vmd_resource_find(&table, fuzz_get8(in) % MAX_RES + 1);
}

static void drop_backing(struct vmd_gpu_resource *res) {
	struct backing *b = &backings[res->base.id - 1];
	res->base.mappings = NULL;
	res->base.n_extents = 0;
	vmd_virgl_resource_backing(virgl, res);
	free(b->data);
	b->data = NULL;
}

static void unref(struct vmd_gpu_resource *res) {
	vmd_virgl_resource_unref(virgl, res);
	drop_backing(res);
	vmd_resource_destroy(&table, res);
}

static void op_create(struct fuzz_input *in) {
	struct virtio_gpu_resource_create_3d cmd = {
		.resource_id = fuzz_get8(in) % MAX_RES + 1,
		.target = fuzz_get8(in),
		.format = fuzz_get32(in),
		.bind = fuzz_get32(in),
		.width = fuzz_get16(in),
		.height = fuzz_get16(in),
		.depth = fuzz_get8(in),
		.array_size = fuzz_get8(in),
		.last_level = fuzz_get8(in),
		.nr_samples = fuzz_get8(in),
	};
	if (vmd_resource_create_3d(&table, &settings, &cmd) != VIRTIO_GPU_RESP_OK_NODATA) {
		return;
	}
	struct vmd_gpu_resource *res = vmd_resource_find(&table, cmd.resource_id);
	CHECK(res != NULL);
	uint32_t r = vmd_virgl_resource_create(virgl, res);
	CHECK(response_ok(r));
	if (r != VIRTIO_GPU_RESP_OK_NODATA) {
		vmd_resource_destroy(&table, res);
		return;
	}
	vmd_virgl_ctx_attach(virgl, CTX, res->base.id);
}

static void op_backing(struct fuzz_input *in) {
	struct vmd_gpu_resource *res = slot(in);
	uint64_t bytes = fuzz_get32(in) % MAX_BACKING + 1;
	if (res == NULL) {
		return;
	}
	drop_backing(res);
	struct backing *b = &backings[res->base.id - 1];
	b->data = calloc(1, bytes);
	CHECK(b->data != NULL);
	b->mapping = (struct tessera_memory_mapping){ .host = b->data, .len = bytes };
	res->base.mappings = &b->mapping;
	res->base.n_extents = 1;
	res->base.size = bytes;
	CHECK(response_ok(vmd_virgl_resource_backing(virgl, res)));
}

static void op_transfer(struct fuzz_input *in) {
	struct vmd_gpu_resource *res = slot(in);
	bool to_host = fuzz_get8(in) & 1;
	struct virtio_gpu_transfer_host_3d cmd = {
		.hdr.ctx_id = CTX,
		.box = { .x = fuzz_get16(in), .y = fuzz_get16(in), .z = fuzz_get16(in),
			.w = fuzz_get16(in), .h = fuzz_get16(in), .d = fuzz_get16(in) },
		.level = fuzz_get8(in),
		.stride = fuzz_get32(in),
		.layer_stride = fuzz_get32(in),
		.offset = fuzz_get32(in),
	};
	if (res != NULL) {
		CHECK(response_ok(vmd_virgl_transfer(virgl, res, &cmd, to_host)));
	}
}

static void op_fence(void) {
	uint32_t seq = vmd_virgl_fence(virgl);
	if (seq == 0) {
		return;
	}
	queued = seq;
	for (int i = 0; i < FENCE_DISPATCHES && (int32_t)(queued - retired) > 0; i++) {
		FUZZ_DISPATCH(loop, 1);
	}
	CHECK(retired == queued);
}

static void op_read(struct fuzz_input *in) {
	struct vmd_gpu_resource *res = slot(in);
	uint32_t x = fuzz_get16(in), y = fuzz_get16(in);
	uint32_t w = fuzz_get16(in), h = fuzz_get16(in);
	if (res == NULL) {
		return;
	}
	uint32_t stride = res->base.width * 4;
	size_t size = (size_t)stride * res->base.height;
	uint8_t *dst = malloc(size > 0 ? size : 1);
	CHECK(dst != NULL);
	vmd_virgl_read(virgl, res, x, y, w, h, stride, dst, size);
	free(dst);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	if (virgl == NULL) {
		init();
	}
	struct fuzz_input in = { .data = data, .size = size };
	CHECK(vmd_virgl_ctx_create(virgl, CTX, "fuzz") == VIRTIO_GPU_RESP_OK_NODATA);
	while (in.pos < in.size) {
		switch (fuzz_get8(&in)) {
		case 0x01: {
			uint32_t n = fuzz_get16(&in);
			size_t got;
			const uint8_t *p = fuzz_get_bytes(&in, (size_t)n * 4, &got);
			memcpy(words, p, got);
			CHECK(response_ok(vmd_virgl_submit(virgl, CTX, words, (uint32_t)got)));
			break;
		}
		case 0x02:
			op_create(&in);
			break;
		case 0x03:
			op_backing(&in);
			break;
		case 0x04:
			op_transfer(&in);
			break;
		case 0x05: {
			struct vmd_gpu_resource *res = slot(&in);
			if (res != NULL) {
				unref(res);
			}
			break;
		}
		case 0x06:
			op_fence();
			break;
		case 0x07:
			op_read(&in);
			break;
		default:
			break;
		}
	}
	for (uint32_t id = 1; id <= MAX_RES; id++) {
		struct vmd_gpu_resource *res = vmd_resource_find(&table, id);
		if (res != NULL) {
			unref(res);
		}
	}
	vmd_virgl_ctx_destroy(virgl, CTX);
	op_fence();
	return 0;
}
