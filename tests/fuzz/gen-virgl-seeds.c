/*
 * Writes the seeds of fuzz-virgl.c (see its top for the format) into the
 * directory given:
 *
 *   gen-virgl-seeds tests/fuzz/corpus/virgl
 *
 * What a guest's Mesa does first (a sub-context, a render target, a
 * surface, the framebuffer, a clear, a fence, the read-back of a frame),
 * transfers both ways, and the bad cases: streams with lengths beyond
 * their end, unknown commands, objects of resources that do not exist,
 * transfers outside their resource or backing, resources virglrenderer
 * refuses, use after unref.
 */
#include <stdbool.h>

#include "gen-seeds.h"

#define OP_SUBMIT 0x01
#define OP_CREATE 0x02
#define OP_BACKING 0x03
#define OP_TRANSFER 0x04
#define OP_UNREF 0x05
#define OP_FENCE 0x06
#define OP_READ 0x07

/* virgl_protocol.h (virglrenderer's, not installed) */
#define CMD0(cmd, obj, len) ((uint32_t)(cmd) | (uint32_t)(obj) << 8 | (uint32_t)(len) << 16)
#define CCMD_CREATE_OBJECT 1
#define CCMD_SET_FRAMEBUFFER_STATE 5
#define CCMD_CLEAR 7
#define CCMD_SET_SUB_CTX 28
#define CCMD_CREATE_SUB_CTX 29
#define OBJECT_SURFACE 8
#define PIPE_CLEAR_COLOR0 (1u << 2)
#define FORMAT_B8G8R8X8 2
#define BIND_RENDER_TARGET (1u << 1)
#define BIND_SAMPLER_VIEW (1u << 3)
#define TEXTURE_2D 2
#define FLOAT_ONE 0x3f800000u

static void create(uint8_t slot, uint8_t target, uint32_t format, uint32_t bind,
		uint16_t w, uint16_t h) {
	put8(OP_CREATE);
	put8(slot);
	put8(target);
	put32(format);
	put32(bind);
	put16(w);
	put16(h);
	put8(1); /* depth */
	put8(1); /* array_size */
	put8(0); /* last_level */
	put8(0); /* nr_samples */
}

static void backing(uint8_t slot, uint32_t bytes) {
	put8(OP_BACKING);
	put8(slot);
	put32(bytes);
}

static void submit(const uint32_t *w, uint16_t n) {
	put8(OP_SUBMIT);
	put16(n);
	for (uint16_t i = 0; i < n; i++) {
		put32(w[i]);
	}
}

static void transfer(uint8_t slot, bool to_host, uint16_t x, uint16_t y, uint16_t w,
		uint16_t h, uint32_t stride, uint32_t offset) {
	put8(OP_TRANSFER);
	put8(slot);
	put8(to_host);
	put16(x);
	put16(y);
	put16(0);
	put16(w);
	put16(h);
	put16(1);
	put8(0);
	put32(stride);
	put32(0);
	put32(offset);
}

static void read_back(uint8_t slot, uint16_t x, uint16_t y, uint16_t w, uint16_t h) {
	put8(OP_READ);
	put8(slot);
	put16(x);
	put16(y);
	put16(w);
	put16(h);
}

/* A 64x64 render target in resource slot 0 (id 1), cleared red: what a
 * frame of weston-simple-egl begins with. */
static void clear_frame(void) {
	create(0, TEXTURE_2D, FORMAT_B8G8R8X8, BIND_RENDER_TARGET | BIND_SAMPLER_VIEW,
		64, 64);
	backing(0, 64 * 64 * 4);
	const uint32_t stream[] = {
		CMD0(CCMD_CREATE_SUB_CTX, 0, 1), 1,
		CMD0(CCMD_SET_SUB_CTX, 0, 1), 1,
		/* surface 1 of resource 1, level 0, layer 0 */
		CMD0(CCMD_CREATE_OBJECT, OBJECT_SURFACE, 5), 1, 1, FORMAT_B8G8R8X8, 0, 0,
		CMD0(CCMD_SET_FRAMEBUFFER_STATE, 0, 3), 1, 0, 1,
		CMD0(CCMD_CLEAR, 0, 8), PIPE_CLEAR_COLOR0, FLOAT_ONE, 0, 0, FLOAT_ONE,
			0, 0, 0,
	};
	submit(stream, sizeof(stream) / sizeof(stream[0]));
	put8(OP_FENCE);
}

static void write_seeds(void) {
	seed_start();
	clear_frame();
	read_back(0, 0, 0, 64, 64);
	read_back(0, 8, 8, 16, 4);
	seed_save("clear-read-back");

	seed_start();
	clear_frame();
	transfer(0, false, 0, 0, 64, 64, 64 * 4, 0);
	transfer(0, true, 4, 4, 8, 8, 64 * 4, 4 * 64 * 4 + 4 * 4);
	put8(OP_FENCE);
	seed_save("transfers");

	/* the bad ones */
	seed_start();
	clear_frame();
	/* a length beyond the stream's end, an unknown command, a surface of
	 * a resource that does not exist, a sub-context never created */
	submit((const uint32_t[]){ CMD0(CCMD_CLEAR, 0, 200), 0 }, 2);
	submit((const uint32_t[]){ CMD0(0x7f, 0, 1), 0 }, 2);
	submit((const uint32_t[]){ CMD0(CCMD_CREATE_OBJECT, OBJECT_SURFACE, 5), 2, 77,
		FORMAT_B8G8R8X8, 0, 0 }, 6);
	submit((const uint32_t[]){ CMD0(CCMD_SET_SUB_CTX, 0, 1), 9 }, 2);
	put8(OP_SUBMIT);
	put16(3); /* a stream that ends early */
	put32(CMD0(CCMD_CREATE_SUB_CTX, 0, 1));
	put8(OP_FENCE);
	seed_save("bad-streams");

	seed_start();
	clear_frame();
	/* transfers outside the resource and its backing, a backing too small,
	 * reads outside the image */
	transfer(0, false, 60, 60, 8, 8, 64 * 4, 0);
	transfer(0, true, 0, 0, 64, 64, 64 * 4, 1u << 20);
	backing(0, 100);
	transfer(0, false, 0, 0, 64, 64, 64 * 4, 0);
	read_back(0, 63, 63, 2, 2);
	read_back(0, 0, 0, 0, 0);
	put8(OP_FENCE);
	seed_save("bad-transfers");

	seed_start();
	/* resources virglrenderer or the device refuses, use after unref */
	create(1, 42, FORMAT_B8G8R8X8, BIND_RENDER_TARGET, 16, 16);
	create(1, TEXTURE_2D, 0xffff, BIND_RENDER_TARGET, 16, 16);
	create(1, TEXTURE_2D, FORMAT_B8G8R8X8, 0x40000000, 16, 16);
	create(2, 0 /* buffer */, 64 /* R8 */, 1u << 4 /* vertex buffer */, 4096, 1);
	backing(2, 4096);
	clear_frame();
	put8(OP_UNREF);
	put8(0);
	transfer(0, false, 0, 0, 64, 64, 64 * 4, 0);
	const uint32_t after[] = { CMD0(CCMD_CLEAR, 0, 8), PIPE_CLEAR_COLOR0, 0, FLOAT_ONE,
		0, FLOAT_ONE, 0, 0, 0 };
	submit(after, sizeof(after) / sizeof(after[0]));
	put8(OP_FENCE);
	seed_save("bad-resources");
}

int main(int argc, char *argv[]) {
	return seed_main(argc, argv, write_seeds);
}
