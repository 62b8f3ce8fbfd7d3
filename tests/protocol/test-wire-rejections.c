/*
 * Every field rule of PROTOCOL.md §6/§7 has a case here: a valid sample
 * message (wire-samples.c) with one or two fields overwritten must be
 * rejected with the exact error code and the exact field name. Boundary
 * values on the valid side are checked to be accepted. Also the buffer
 * checks against a resource size (tessera_wire_check_buffer and
 * tessera_wire_check_range), with every integer overflow.
 */
#include <stdlib.h>

#include "wire-samples.h"
#include "wire-test.h"

#define MAXC TESSERA_WIRE_MAX_COORD
#define MAXF ((uint64_t)TESSERA_WIRE_MAX_FIXED_COORD)
#define MAXD TESSERA_WIRE_MAX_DIMENSION
#define NEG(v) ((uint64_t)(uint32_t)-(int64_t)(v))

struct patch {
	uint16_t off;
	uint8_t width; /* 0: unused */
	uint64_t value;
};

struct reject_case {
	uint16_t type;
	struct patch patch[2];
	enum tessera_wire_error_code code; /* NONE: must be accepted */
	const char *field;
};

#define E(name) TESSERA_WIRE_ERROR_##name
#define T(name) TESSERA_WIRE_##name
#define P1(o, w, v) {{(o), (w), (v)}, {0, 0, 0}}
#define P2(o1, w1, v1, o2, w2, v2) {{(o1), (w1), (v1)}, {(o2), (w2), (v2)}}
#define R(type, off, value, code, field) {T(type), P1(off, 4, value), E(code), field}
#define OK(type, off, value) {T(type), P1(off, 4, value), E(NONE), NULL}

static const struct reject_case cases[] = {
	/* HELLO */
	R(HELLO, 8, 0, VALUE, "HELLO.max_version"),
	R(HELLO, 12, 0, VALUE, "HELLO.min_version"),
	R(HELLO, 12, 4, VALUE, "HELLO.min_version"),
	OK(HELLO, 12, 3),
	/* EVENT_RING */
	R(EVENT_RING, 8, 0, ID, "EVENT_RING.resource"),
	R(EVENT_RING, 12, 0, VALUE, "EVENT_RING.size"),
	R(EVENT_RING, 12, 65536, VALUE, "EVENT_RING.size"),
	R(EVENT_RING, 12, 64 + 65536 + 8, VALUE, "EVENT_RING.size"),
	R(EVENT_RING, 12, 64 + 8192, VALUE, "EVENT_RING.size"),
	R(EVENT_RING, 12, 64 + 2 * 1024 * 1024, VALUE, "EVENT_RING.size"),
	R(EVENT_RING, 12, 0xffffffff, VALUE, "EVENT_RING.size"),
	OK(EVENT_RING, 12, 64 + 16384),
	OK(EVENT_RING, 12, 64 + 1024 * 1024),
	R(EVENT_RING, 16, 32, ALIGNMENT, "EVENT_RING.offset"),
	R(EVENT_RING, 16, 1, ALIGNMENT, "EVENT_RING.offset"),
	{T(EVENT_RING), P1(16, 8, UINT64_MAX), E(ALIGNMENT), "EVENT_RING.offset"},
	/* SET_KEYMAP_AREA */
	R(SET_KEYMAP_AREA, 8, 0, ID, "SET_KEYMAP_AREA.resource"),
	R(SET_KEYMAP_AREA, 12, 0, VALUE, "SET_KEYMAP_AREA.size"),
	R(SET_KEYMAP_AREA, 12, TESSERA_WIRE_MAX_KEYMAP_SIZE + 1, VALUE, "SET_KEYMAP_AREA.size"),
	OK(SET_KEYMAP_AREA, 12, TESSERA_WIRE_MAX_KEYMAP_SIZE),
	/* SURFACE_CREATE / SURFACE_DESTROY */
	R(SURFACE_CREATE, 8, 0, ID, "SURFACE_CREATE.surface"),
	R(SURFACE_CREATE, 12, 1, RESERVED, "SURFACE_CREATE.reserved"),
	R(SURFACE_DESTROY, 8, 0, ID, "SURFACE_DESTROY.surface"),
	R(SURFACE_DESTROY, 12, 0x80000000, RESERVED, "SURFACE_DESTROY.reserved"),
	/* COMMIT */
	R(COMMIT, 8, 0, ID, "COMMIT.surface"),
	OK(COMMIT, 12, 0),
	R(COMMIT, 20, 8, VALUE, "COMMIT.flags"),
	R(COMMIT, 20, 0x80000000, VALUE, "COMMIT.flags"),
	R(COMMIT, 24, MAXC + 1, COORDINATE, "COMMIT.dx"),
	R(COMMIT, 28, NEG(MAXC + 1), COORDINATE, "COMMIT.dy"),
	OK(COMMIT, 28, NEG(MAXC)),
	R(COMMIT, 32, 0, VALUE, "COMMIT.scale"),
	R(COMMIT, 32, 9, VALUE, "COMMIT.scale"),
	R(COMMIT, 32, NEG(1), VALUE, "COMMIT.scale"),
	OK(COMMIT, 32, 8),
	R(COMMIT, 36, 8, VALUE, "COMMIT.transform"),
	R(COMMIT, 40, TESSERA_WIRE_MAX_DAMAGE_RECTS + 1, COUNT, "COMMIT.damage_count"),
	R(COMMIT, 40, 0xffffffff, COUNT, "COMMIT.damage_count"),
	R(COMMIT, 40, 3, SIZE, "COMMIT.damage"),
	R(COMMIT, 40, 1, SIZE, "COMMIT.damage"),
	R(COMMIT, 44, 1, RESERVED, "COMMIT.reserved"),
	R(COMMIT, 20, 4, COUNT, "COMMIT.damage_count"), /* DAMAGE_ALL with rects */
	R(COMMIT, 56, 0, DIMENSION, "COMMIT.damage"),
	R(COMMIT, 60, NEG(1), DIMENSION, "COMMIT.damage"),
	R(COMMIT, 56, MAXD + 1, DIMENSION, "COMMIT.damage"),
	R(COMMIT, 56, 0x7fffffff, DIMENSION, "COMMIT.damage"),
	R(COMMIT, 48, NEG(1), COORDINATE, "COMMIT.damage"),
	R(COMMIT, 48, 1, COORDINATE, "COMMIT.damage"), /* 1 + 16384 > MAX */
	R(COMMIT, 64, MAXD - 29, COORDINATE, "COMMIT.damage"), /* x + 30 = 16385 */
	OK(COMMIT, 64, MAXD - 30),
	R(COMMIT, 68, 0x7fffffff, COORDINATE, "COMMIT.damage"),
	R(COMMIT, 68, 0x80000000, COORDINATE, "COMMIT.damage"),
	/* SET_INPUT_REGION / SET_OPAQUE_REGION */
	R(SET_INPUT_REGION, 8, 0, ID, "SET_INPUT_REGION.surface"),
	R(SET_INPUT_REGION, 12, 2, VALUE, "SET_INPUT_REGION.flags"),
	R(SET_INPUT_REGION, 12, 1, COUNT, "SET_INPUT_REGION.rect_count"), /* INFINITE + rect */
	R(SET_INPUT_REGION, 16, TESSERA_WIRE_MAX_REGION_RECTS + 1, COUNT,
		"SET_INPUT_REGION.rect_count"),
	R(SET_INPUT_REGION, 16, 0, SIZE, "SET_INPUT_REGION.rects"),
	R(SET_INPUT_REGION, 20, 1, RESERVED, "SET_INPUT_REGION.reserved"),
	R(SET_INPUT_REGION, 24, NEG(MAXC + 1), COORDINATE, "SET_INPUT_REGION.rects"),
	R(SET_INPUT_REGION, 28, MAXC + 1, COORDINATE, "SET_INPUT_REGION.rects"),
	R(SET_INPUT_REGION, 32, 0, DIMENSION, "SET_INPUT_REGION.rects"),
	R(SET_INPUT_REGION, 36, MAXC + 1, DIMENSION, "SET_INPUT_REGION.rects"),
	R(SET_INPUT_REGION, 36, NEG(5), DIMENSION, "SET_INPUT_REGION.rects"),
	R(SET_OPAQUE_REGION, 8, 0, ID, "SET_OPAQUE_REGION.surface"),
	R(SET_OPAQUE_REGION, 12, 3, VALUE, "SET_OPAQUE_REGION.flags"),
	R(SET_OPAQUE_REGION, 16, 1, SIZE, "SET_OPAQUE_REGION.rects"),
	R(SET_OPAQUE_REGION, 16, 257, COUNT, "SET_OPAQUE_REGION.rect_count"),
	OK(SET_OPAQUE_REGION, 12, 0), /* empty region */
	/* BUFFER_CREATE (sample: ARGB8888 640x480 stride 2560 offset 8 GiB) */
	R(BUFFER_CREATE, 8, 0, ID, "BUFFER_CREATE.buffer"),
	R(BUFFER_CREATE, 12, 0, ID, "BUFFER_CREATE.resource"),
	R(BUFFER_CREATE, 16, 0, FORMAT, "BUFFER_CREATE.format"),
	R(BUFFER_CREATE, 16, 0x3231564e /* NV12 */, FORMAT, "BUFFER_CREATE.format"),
	R(BUFFER_CREATE, 16, 0x34325258 + 1, FORMAT, "BUFFER_CREATE.format"),
	OK(BUFFER_CREATE, 16, TESSERA_WIRE_FORMAT_XRGB8888),
	OK(BUFFER_CREATE, 16, TESSERA_WIRE_FORMAT_XBGR8888),
	OK(BUFFER_CREATE, 16, TESSERA_WIRE_FORMAT_ABGR8888),
	R(BUFFER_CREATE, 20, 0, DIMENSION, "BUFFER_CREATE.width"),
	R(BUFFER_CREATE, 20, MAXD + 1, DIMENSION, "BUFFER_CREATE.width"),
	R(BUFFER_CREATE, 20, 0xffffffff, DIMENSION, "BUFFER_CREATE.width"),
	R(BUFFER_CREATE, 20, 0x40000000, DIMENSION, "BUFFER_CREATE.width"), /* w*4 wraps 32 bits */
	R(BUFFER_CREATE, 24, 0, DIMENSION, "BUFFER_CREATE.height"),
	R(BUFFER_CREATE, 24, MAXD + 1, DIMENSION, "BUFFER_CREATE.height"),
	R(BUFFER_CREATE, 24, 0x80000000, DIMENSION, "BUFFER_CREATE.height"),
	R(BUFFER_CREATE, 28, 0, STRIDE, "BUFFER_CREATE.stride"),
	R(BUFFER_CREATE, 28, 2556, STRIDE, "BUFFER_CREATE.stride"), /* < 640 * 4 */
	R(BUFFER_CREATE, 28, 640, STRIDE, "BUFFER_CREATE.stride"), /* = width, bpp ignored */
	R(BUFFER_CREATE, 28, 2562, STRIDE, "BUFFER_CREATE.stride"), /* not a multiple of 4 */
	R(BUFFER_CREATE, 28, TESSERA_WIRE_MAX_STRIDE + 4, STRIDE, "BUFFER_CREATE.stride"),
	R(BUFFER_CREATE, 28, 0xfffffffc, STRIDE, "BUFFER_CREATE.stride"),
	OK(BUFFER_CREATE, 28, TESSERA_WIRE_MAX_STRIDE),
	{T(BUFFER_CREATE), P2(20, 4, MAXD, 28, 4, 4 * MAXD), E(NONE), NULL},
	{T(BUFFER_CREATE), P2(20, 4, MAXD, 28, 4, 4 * MAXD - 4), E(STRIDE), "BUFFER_CREATE.stride"},
	{T(BUFFER_CREATE), P1(32, 8, 2), E(ALIGNMENT), "BUFFER_CREATE.offset"},
	{T(BUFFER_CREATE), P1(32, 8, UINT64_MAX), E(ALIGNMENT), "BUFFER_CREATE.offset"},
	{T(BUFFER_CREATE), P1(32, 8, UINT64_MAX - 3), E(NONE), NULL}, /* range: check_buffer */
	/* BUFFER_DESTROY */
	R(BUFFER_DESTROY, 8, 0, ID, "BUFFER_DESTROY.buffer"),
	R(BUFFER_DESTROY, 12, 1, RESERVED, "BUFFER_DESTROY.reserved"),
	/* TOPLEVEL_CREATE */
	R(TOPLEVEL_CREATE, 8, 0, ID, "TOPLEVEL_CREATE.surface"),
	R(TOPLEVEL_CREATE, 12, 1, RESERVED, "TOPLEVEL_CREATE.reserved"),
	/* SET_TITLE (16 bytes of text) / SET_APP_ID (7 bytes) */
	R(SET_TITLE, 8, 0, ID, "SET_TITLE.surface"),
	R(SET_TITLE, 12, TESSERA_WIRE_MAX_TITLE_LENGTH + 1, COUNT, "SET_TITLE.length"),
	R(SET_TITLE, 12, 0xffffffff, COUNT, "SET_TITLE.length"),
	R(SET_TITLE, 12, 8, SIZE, "SET_TITLE.text"),
	R(SET_TITLE, 12, 17, SIZE, "SET_TITLE.text"),
	R(SET_TITLE, 12, 15, STRING, "SET_TITLE.text"), /* cuts the last character */
	R(SET_APP_ID, 8, 0, ID, "SET_APP_ID.surface"),
	R(SET_APP_ID, 12, TESSERA_WIRE_MAX_APP_ID_LENGTH + 1, COUNT, "SET_APP_ID.length"),
	R(SET_APP_ID, 12, 8, STRING, "SET_APP_ID.text"), /* takes a NUL padding byte */
	R(SET_APP_ID, 12, 0, SIZE, "SET_APP_ID.text"),
	{T(SET_APP_ID), P1(23, 1, 'x'), E(RESERVED), "SET_APP_ID.text"}, /* padding */
	{T(SET_APP_ID), P1(17, 1, 0), E(STRING), "SET_APP_ID.text"}, /* embedded NUL */
	{T(SET_APP_ID), P1(17, 1, '\n'), E(STRING), "SET_APP_ID.text"},
	{T(SET_APP_ID), P1(17, 1, 0x7f), E(STRING), "SET_APP_ID.text"},
	{T(SET_APP_ID), P1(17, 1, 0xff), E(STRING), "SET_APP_ID.text"},
	{T(SET_APP_ID), P1(17, 1, 0x80), E(STRING), "SET_APP_ID.text"},
	/* TOPLEVEL_SET_PARENT */
	R(TOPLEVEL_SET_PARENT, 8, 0, ID, "TOPLEVEL_SET_PARENT.surface"),
	R(TOPLEVEL_SET_PARENT, 12, 5, VALUE, "TOPLEVEL_SET_PARENT.parent"),
	OK(TOPLEVEL_SET_PARENT, 12, 0),
	/* TOPLEVEL_SET_SIZE_LIMITS (min 100x50, max 0x16384) */
	R(TOPLEVEL_SET_SIZE_LIMITS, 8, 0, ID, "TOPLEVEL_SET_SIZE_LIMITS.surface"),
	R(TOPLEVEL_SET_SIZE_LIMITS, 12, NEG(1), DIMENSION, "TOPLEVEL_SET_SIZE_LIMITS.min_width"),
	R(TOPLEVEL_SET_SIZE_LIMITS, 16, MAXD + 1, DIMENSION, "TOPLEVEL_SET_SIZE_LIMITS.min_height"),
	R(TOPLEVEL_SET_SIZE_LIMITS, 20, NEG(MAXD), DIMENSION, "TOPLEVEL_SET_SIZE_LIMITS.max_width"),
	R(TOPLEVEL_SET_SIZE_LIMITS, 24, MAXD + 1, DIMENSION, "TOPLEVEL_SET_SIZE_LIMITS.max_height"),
	R(TOPLEVEL_SET_SIZE_LIMITS, 20, 99, VALUE, "TOPLEVEL_SET_SIZE_LIMITS.max_width"),
	OK(TOPLEVEL_SET_SIZE_LIMITS, 20, 100),
	R(TOPLEVEL_SET_SIZE_LIMITS, 24, 49, VALUE, "TOPLEVEL_SET_SIZE_LIMITS.max_height"),
	R(TOPLEVEL_SET_SIZE_LIMITS, 28, 1, RESERVED, "TOPLEVEL_SET_SIZE_LIMITS.reserved"),
	/* TOPLEVEL_REQUEST (sample: SET_FULLSCREEN on output 2) */
	R(TOPLEVEL_REQUEST, 8, 0, ID, "TOPLEVEL_REQUEST.surface"),
	R(TOPLEVEL_REQUEST, 12, 0, VALUE, "TOPLEVEL_REQUEST.action"),
	R(TOPLEVEL_REQUEST, 12, 6, VALUE, "TOPLEVEL_REQUEST.action"),
	R(TOPLEVEL_REQUEST, 12, 1, VALUE, "TOPLEVEL_REQUEST.output"),
	{T(TOPLEVEL_REQUEST), P2(12, 4, 5, 16, 4, 0), E(NONE), NULL},
	OK(TOPLEVEL_REQUEST, 16, 0),
	R(TOPLEVEL_REQUEST, 20, 1, RESERVED, "TOPLEVEL_REQUEST.reserved"),
	/* TOPLEVEL_MOVE, ACK_CONFIGURE, POPUP_GRAB */
	R(TOPLEVEL_MOVE, 8, 0, ID, "TOPLEVEL_MOVE.surface"),
	R(ACK_CONFIGURE, 8, 0, ID, "ACK_CONFIGURE.surface"),
	R(POPUP_GRAB, 8, 0, ID, "POPUP_GRAB.surface"),
	/* TOPLEVEL_RESIZE */
	R(TOPLEVEL_RESIZE, 8, 0, ID, "TOPLEVEL_RESIZE.surface"),
	R(TOPLEVEL_RESIZE, 16, 3, VALUE, "TOPLEVEL_RESIZE.edges"),
	R(TOPLEVEL_RESIZE, 16, 7, VALUE, "TOPLEVEL_RESIZE.edges"),
	R(TOPLEVEL_RESIZE, 16, 11, VALUE, "TOPLEVEL_RESIZE.edges"),
	R(TOPLEVEL_RESIZE, 16, 0xffffffff, VALUE, "TOPLEVEL_RESIZE.edges"),
	OK(TOPLEVEL_RESIZE, 16, 0),
	OK(TOPLEVEL_RESIZE, 16, 6),
	R(TOPLEVEL_RESIZE, 20, 1, RESERVED, "TOPLEVEL_RESIZE.reserved"),
	/* TOPLEVEL_SHOW_WINDOW_MENU */
	R(TOPLEVEL_SHOW_WINDOW_MENU, 8, 0, ID, "TOPLEVEL_SHOW_WINDOW_MENU.surface"),
	R(TOPLEVEL_SHOW_WINDOW_MENU, 16, MAXC + 1, COORDINATE, "TOPLEVEL_SHOW_WINDOW_MENU.x"),
	R(TOPLEVEL_SHOW_WINDOW_MENU, 20, 0x80000000, COORDINATE, "TOPLEVEL_SHOW_WINDOW_MENU.y"),
	/* TOPLEVEL_SET_DECORATION */
	R(TOPLEVEL_SET_DECORATION, 8, 0, ID, "TOPLEVEL_SET_DECORATION.surface"),
	R(TOPLEVEL_SET_DECORATION, 12, 0, VALUE, "TOPLEVEL_SET_DECORATION.mode"),
	R(TOPLEVEL_SET_DECORATION, 12, 3, VALUE, "TOPLEVEL_SET_DECORATION.mode"),
	OK(TOPLEVEL_SET_DECORATION, 12, 1),
	/* SET_WINDOW_GEOMETRY */
	R(SET_WINDOW_GEOMETRY, 8, 0, ID, "SET_WINDOW_GEOMETRY.surface"),
	R(SET_WINDOW_GEOMETRY, 12, 1, RESERVED, "SET_WINDOW_GEOMETRY.reserved"),
	R(SET_WINDOW_GEOMETRY, 16, 0x7fffffff, COORDINATE, "SET_WINDOW_GEOMETRY.x"),
	R(SET_WINDOW_GEOMETRY, 20, NEG(MAXC + 1), COORDINATE, "SET_WINDOW_GEOMETRY.y"),
	R(SET_WINDOW_GEOMETRY, 24, 0, DIMENSION, "SET_WINDOW_GEOMETRY.width"),
	R(SET_WINDOW_GEOMETRY, 28, NEG(5), DIMENSION, "SET_WINDOW_GEOMETRY.height"),
	R(SET_WINDOW_GEOMETRY, 24, MAXD + 1, DIMENSION, "SET_WINDOW_GEOMETRY.width"),
	/* POPUP_CREATE (surface 20, parent 5, full positioner) */
	R(POPUP_CREATE, 8, 0, ID, "POPUP_CREATE.surface"),
	R(POPUP_CREATE, 12, 0, ID, "POPUP_CREATE.parent"),
	R(POPUP_CREATE, 12, 20, VALUE, "POPUP_CREATE.parent"),
	R(POPUP_CREATE, 16, 0, DIMENSION, "POPUP_CREATE.positioner.width"),
	R(POPUP_CREATE, 20, MAXD + 1, DIMENSION, "POPUP_CREATE.positioner.height"),
	R(POPUP_CREATE, 24, MAXC + 1, COORDINATE, "POPUP_CREATE.positioner.anchor_x"),
	R(POPUP_CREATE, 28, NEG(MAXC + 1), COORDINATE, "POPUP_CREATE.positioner.anchor_y"),
	R(POPUP_CREATE, 32, NEG(1), DIMENSION, "POPUP_CREATE.positioner.anchor_width"),
	R(POPUP_CREATE, 36, MAXD + 1, DIMENSION, "POPUP_CREATE.positioner.anchor_height"),
	R(POPUP_CREATE, 40, 9, VALUE, "POPUP_CREATE.positioner.anchor"),
	R(POPUP_CREATE, 44, 9, VALUE, "POPUP_CREATE.positioner.gravity"),
	R(POPUP_CREATE, 48, 0x40, VALUE, "POPUP_CREATE.positioner.constraint_adjustment"),
	R(POPUP_CREATE, 52, MAXC + 1, COORDINATE, "POPUP_CREATE.positioner.offset_x"),
	R(POPUP_CREATE, 56, NEG(MAXC + 1), COORDINATE, "POPUP_CREATE.positioner.offset_y"),
	R(POPUP_CREATE, 60, 8, VALUE, "POPUP_CREATE.positioner.flags"),
	R(POPUP_CREATE, 64, NEG(1), DIMENSION, "POPUP_CREATE.positioner.parent_width"),
	R(POPUP_CREATE, 68, MAXD + 1, DIMENSION, "POPUP_CREATE.positioner.parent_height"),
	R(POPUP_CREATE, 76, 1, RESERVED, "POPUP_CREATE.positioner.reserved"),
	R(POPUP_CREATE, 60, 5, VALUE, "POPUP_CREATE.positioner.parent_width"),
	R(POPUP_CREATE, 60, 3, VALUE, "POPUP_CREATE.positioner.parent_configure"),
	{T(POPUP_CREATE), P2(60, 4, 0, 64, 8, 0), E(VALUE), "POPUP_CREATE.positioner.parent_configure"},
	{T(POPUP_CREATE), P2(60, 4, 4, 64, 8, 0), E(NONE), NULL},
	/* POPUP_REPOSITION */
	R(POPUP_REPOSITION, 8, 0, ID, "POPUP_REPOSITION.surface"),
	R(POPUP_REPOSITION, 16, 0, DIMENSION, "POPUP_REPOSITION.positioner.width"),
	R(POPUP_REPOSITION, 40, 0xffffffff, VALUE, "POPUP_REPOSITION.positioner.anchor"),
	R(POPUP_REPOSITION, 60, 1, VALUE, "POPUP_REPOSITION.positioner.parent_width"),
	R(POPUP_REPOSITION, 60, 2, VALUE, "POPUP_REPOSITION.positioner.parent_configure"),
	R(POPUP_REPOSITION, 76, 1, RESERVED, "POPUP_REPOSITION.positioner.reserved"),
	/* subsurfaces */
	R(SUBSURFACE_CREATE, 8, 0, ID, "SUBSURFACE_CREATE.surface"),
	R(SUBSURFACE_CREATE, 12, 0, ID, "SUBSURFACE_CREATE.parent"),
	R(SUBSURFACE_CREATE, 12, 30, VALUE, "SUBSURFACE_CREATE.parent"),
	R(SUBSURFACE_SET_POSITION, 8, 0, ID, "SUBSURFACE_SET_POSITION.surface"),
	R(SUBSURFACE_SET_POSITION, 12, 1, RESERVED, "SUBSURFACE_SET_POSITION.reserved"),
	R(SUBSURFACE_SET_POSITION, 16, MAXC + 1, COORDINATE, "SUBSURFACE_SET_POSITION.x"),
	R(SUBSURFACE_SET_POSITION, 20, 0x80000000, COORDINATE, "SUBSURFACE_SET_POSITION.y"),
	R(SUBSURFACE_PLACE, 8, 0, ID, "SUBSURFACE_PLACE.surface"),
	R(SUBSURFACE_PLACE, 12, 0, ID, "SUBSURFACE_PLACE.sibling"),
	R(SUBSURFACE_PLACE, 12, 30, VALUE, "SUBSURFACE_PLACE.sibling"),
	R(SUBSURFACE_PLACE, 16, 2, VALUE, "SUBSURFACE_PLACE.placement"),
	OK(SUBSURFACE_PLACE, 16, 0),
	R(SUBSURFACE_PLACE, 20, 1, RESERVED, "SUBSURFACE_PLACE.reserved"),
	R(SUBSURFACE_SET_SYNC, 8, 0, ID, "SUBSURFACE_SET_SYNC.surface"),
	R(SUBSURFACE_SET_SYNC, 12, 2, VALUE, "SUBSURFACE_SET_SYNC.sync"),
	OK(SUBSURFACE_SET_SYNC, 12, 0),
	/* SET_CURSOR */
	OK(SET_CURSOR, 8, 7),
	R(SET_CURSOR, 16, MAXC + 1, COORDINATE, "SET_CURSOR.hotspot_x"),
	R(SET_CURSOR, 20, NEG(MAXC + 1), COORDINATE, "SET_CURSOR.hotspot_y"),

	/* HELLO_REPLY */
	R(HELLO_REPLY, 8, 0, VALUE, "HELLO_REPLY.version"),
	R(HELLO_REPLY, 12, 1, RESERVED, "HELLO_REPLY.reserved"),
	/* ERROR (message "bad strid", 9 bytes, size 56) */
	R(ERROR, 8, 0, VALUE, "ERROR.code"),
	{T(ERROR), P1(14, 2, 1), E(RESERVED), "ERROR.reserved"},
	R(ERROR, 32, TESSERA_WIRE_MAX_ERROR_MESSAGE_LENGTH + 1, COUNT, "ERROR.message_length"),
	R(ERROR, 32, 17, SIZE, "ERROR.message"),
	R(ERROR, 32, 10, STRING, "ERROR.message"),
	R(ERROR, 36, 1, RESERVED, "ERROR.reserved"),
	{T(ERROR), P1(42, 1, 0x1b), E(STRING), "ERROR.message"},
	{T(ERROR), P1(55, 1, 1), E(RESERVED), "ERROR.message"},
	/* KEYMAP */
	R(KEYMAP, 8, 0, ID, "KEYMAP.resource"),
	R(KEYMAP, 12, 0, VALUE, "KEYMAP.size"),
	R(KEYMAP, 12, TESSERA_WIRE_MAX_KEYMAP_SIZE + 1, VALUE, "KEYMAP.size"),
	R(KEYMAP, 16, 0, VALUE, "KEYMAP.format"),
	R(KEYMAP, 16, 2, VALUE, "KEYMAP.format"),
	R(KEYMAP, 20, 1, RESERVED, "KEYMAP.reserved"),
	/* OUTPUT */
	R(OUTPUT, 8, 0, ID, "OUTPUT.output"),
	R(OUTPUT, 12, MAXC + 1, COORDINATE, "OUTPUT.x"),
	R(OUTPUT, 16, NEG(MAXC + 1), COORDINATE, "OUTPUT.y"),
	R(OUTPUT, 20, 0, DIMENSION, "OUTPUT.width"),
	R(OUTPUT, 24, MAXD + 1, DIMENSION, "OUTPUT.height"),
	R(OUTPUT, 28, TESSERA_WIRE_MAX_REFRESH_MHZ + 1, VALUE, "OUTPUT.refresh_mhz"),
	OK(OUTPUT, 28, 0),
	R(OUTPUT, 32, 0, VALUE, "OUTPUT.scale"),
	R(OUTPUT, 32, 9, VALUE, "OUTPUT.scale"),
	R(OUTPUT, 36, 8, VALUE, "OUTPUT.transform"),
	R(OUTPUT, 40, NEG(1), DIMENSION, "OUTPUT.physical_width_mm"),
	R(OUTPUT, 44, MAXC + 1, DIMENSION, "OUTPUT.physical_height_mm"),
	OK(OUTPUT, 40, 0),
	/* OUTPUT_REMOVE, SURFACE_ENTER/LEAVE */
	R(OUTPUT_REMOVE, 8, 0, ID, "OUTPUT_REMOVE.output"),
	R(OUTPUT_REMOVE, 12, 1, RESERVED, "OUTPUT_REMOVE.reserved"),
	R(SURFACE_ENTER, 8, 0, ID, "SURFACE_ENTER.surface"),
	R(SURFACE_ENTER, 12, 0, ID, "SURFACE_ENTER.output"),
	R(SURFACE_LEAVE, 8, 0, ID, "SURFACE_LEAVE.surface"),
	R(SURFACE_LEAVE, 12, 0, ID, "SURFACE_LEAVE.output"),
	/* FRAME_DONE */
	R(FRAME_DONE, 8, 0, ID, "FRAME_DONE.surface"),
	R(FRAME_DONE, 20, 1, RESERVED, "FRAME_DONE.reserved"),
	/* PRESENTED */
	R(PRESENTED, 8, 0, ID, "PRESENTED.surface"),
	R(PRESENTED, 24, 1000000000, VALUE, "PRESENTED.tv_nsec"),
	R(PRESENTED, 40, 0x10, VALUE, "PRESENTED.flags"),
	R(PRESENTED, 40, 0x80000000, VALUE, "PRESENTED.flags"),
	R(PRESENTED, 40, 0x10f, VALUE, "PRESENTED.flags"),
	R(PRESENTED, 40, 0x100, VALUE, "PRESENTED.flags"), /* DISCARDED with data */
	/* BUFFER_RELEASE */
	R(BUFFER_RELEASE, 8, 0, ID, "BUFFER_RELEASE.buffer"),
	R(BUFFER_RELEASE, 12, 1, RESERVED, "BUFFER_RELEASE.reserved"),
	{T(BUFFER_RELEASE), P1(16, 8, 0), E(VALUE), "BUFFER_RELEASE.release_point"},
	{T(BUFFER_RELEASE), P1(16, 8, UINT64_MAX), E(NONE), NULL},
	/* CONFIGURE */
	R(CONFIGURE, 8, 0, ID, "CONFIGURE.surface"),
	R(CONFIGURE, 16, NEG(1), DIMENSION, "CONFIGURE.width"),
	R(CONFIGURE, 20, MAXD + 1, DIMENSION, "CONFIGURE.height"),
	R(CONFIGURE, 24, NEG(1), DIMENSION, "CONFIGURE.bounds_width"),
	R(CONFIGURE, 28, MAXD + 1, DIMENSION, "CONFIGURE.bounds_height"),
	R(CONFIGURE, 32, 0x200, VALUE, "CONFIGURE.states"),
	R(CONFIGURE, 36, 3, VALUE, "CONFIGURE.decoration"),
	OK(CONFIGURE, 36, 0),
	/* CLOSE, POPUP_* */
	R(CLOSE, 8, 0, ID, "CLOSE.surface"),
	R(CLOSE, 12, 1, RESERVED, "CLOSE.reserved"),
	R(POPUP_CONFIGURE, 8, 0, ID, "POPUP_CONFIGURE.surface"),
	R(POPUP_CONFIGURE, 16, MAXC + 1, COORDINATE, "POPUP_CONFIGURE.x"),
	R(POPUP_CONFIGURE, 20, NEG(MAXC + 1), COORDINATE, "POPUP_CONFIGURE.y"),
	R(POPUP_CONFIGURE, 24, 0, DIMENSION, "POPUP_CONFIGURE.width"),
	R(POPUP_CONFIGURE, 28, MAXD + 1, DIMENSION, "POPUP_CONFIGURE.height"),
	R(POPUP_REPOSITIONED, 8, 0, ID, "POPUP_REPOSITIONED.surface"),
	R(POPUP_DONE, 8, 0, ID, "POPUP_DONE.surface"),
	R(POPUP_DONE, 12, 1, RESERVED, "POPUP_DONE.reserved"),
	/* pointer */
	R(POINTER_ENTER, 8, 0, ID, "POINTER_ENTER.surface"),
	R(POINTER_ENTER, 16, MAXF + 1, COORDINATE, "POINTER_ENTER.x"),
	R(POINTER_ENTER, 20, 0x80000000, COORDINATE, "POINTER_ENTER.y"),
	R(POINTER_LEAVE, 8, 0, ID, "POINTER_LEAVE.surface"),
	R(POINTER_MOTION, 12, 1, RESERVED, "POINTER_MOTION.reserved"),
	R(POINTER_MOTION, 16, MAXF + 1, COORDINATE, "POINTER_MOTION.x"),
	R(POINTER_MOTION, 20, NEG(MAXF + 1), COORDINATE, "POINTER_MOTION.y"),
	R(POINTER_BUTTON, 16, TESSERA_WIRE_MAX_KEY + 1, VALUE, "POINTER_BUTTON.button"),
	R(POINTER_BUTTON, 20, 2, VALUE, "POINTER_BUTTON.state"),
	R(POINTER_AXIS, 12, 2, VALUE, "POINTER_AXIS.axis"),
	R(POINTER_AXIS, 16, MAXF + 1, COORDINATE, "POINTER_AXIS.value"),
	R(POINTER_AXIS, 20, MAXC + 1, COORDINATE, "POINTER_AXIS.value120"),
	R(POINTER_AXIS, 24, 4, VALUE, "POINTER_AXIS.source"),
	R(POINTER_AXIS, 28, 8, VALUE, "POINTER_AXIS.flags"),
	R(POINTER_AXIS, 28, 5, VALUE, "POINTER_AXIS.source"), /* source without SOURCE */
	R(POINTER_AXIS, 28, 3, VALUE, "POINTER_AXIS.value120"), /* value120 without flag */
	{T(POINTER_AXIS), P2(28, 4, 1, 24, 4, 0), E(VALUE), "POINTER_AXIS.value120"},
	{T(POINTER_AXIS), P2(28, 4, 1, 20, 4, 0), E(VALUE), "POINTER_AXIS.source"},
	/* keyboard (KEYBOARD_ENTER sample: 3 keys, size 40) */
	R(KEYBOARD_ENTER, 8, 0, ID, "KEYBOARD_ENTER.surface"),
	R(KEYBOARD_ENTER, 16, TESSERA_WIRE_MAX_KEYS + 1, COUNT, "KEYBOARD_ENTER.key_count"),
	R(KEYBOARD_ENTER, 16, 0xffffffff, COUNT, "KEYBOARD_ENTER.key_count"),
	R(KEYBOARD_ENTER, 16, 2, SIZE, "KEYBOARD_ENTER.keys"),
	R(KEYBOARD_ENTER, 16, 5, SIZE, "KEYBOARD_ENTER.keys"),
	R(KEYBOARD_ENTER, 20, 1, RESERVED, "KEYBOARD_ENTER.reserved"),
	R(KEYBOARD_ENTER, 28, TESSERA_WIRE_MAX_KEY + 1, VALUE, "KEYBOARD_ENTER.keys"),
	R(KEYBOARD_ENTER, 36, 1, RESERVED, "KEYBOARD_ENTER.keys"), /* padding */
	R(KEYBOARD_LEAVE, 8, 0, ID, "KEYBOARD_LEAVE.surface"),
	R(KEYBOARD_KEY, 16, TESSERA_WIRE_MAX_KEY + 1, VALUE, "KEYBOARD_KEY.key"),
	R(KEYBOARD_KEY, 20, 2, VALUE, "KEYBOARD_KEY.state"),
	R(KEYBOARD_MODIFIERS, 28, 1, RESERVED, "KEYBOARD_MODIFIERS.reserved"),
	R(KEYBOARD_REPEAT_INFO, 8, NEG(1), VALUE, "KEYBOARD_REPEAT_INFO.rate"),
	R(KEYBOARD_REPEAT_INFO, 8, TESSERA_WIRE_MAX_REPEAT_RATE + 1, VALUE,
		"KEYBOARD_REPEAT_INFO.rate"),
	R(KEYBOARD_REPEAT_INFO, 12, NEG(1), VALUE, "KEYBOARD_REPEAT_INFO.delay"),
	R(KEYBOARD_REPEAT_INFO, 12, TESSERA_WIRE_MAX_REPEAT_DELAY + 1, VALUE,
		"KEYBOARD_REPEAT_INFO.delay"),
	OK(KEYBOARD_REPEAT_INFO, 8, 0),

	/* window sharing (§17) */
	R(SHARE_BUFFER, 8, 0, ID, "SHARE_BUFFER.share"),
	R(SHARE_BUFFER, 12, 0, ID, "SHARE_BUFFER.buffer"),
	OK(SHARE_BUFFER, 12, UINT32_MAX),
	R(SHARE_OFFER, 8, 0, ID, "SHARE_OFFER.share"),
	R(SHARE_OFFER, 12, 0, DIMENSION, "SHARE_OFFER.width"),
	R(SHARE_OFFER, 12, TESSERA_WIRE_MAX_DIMENSION + 1, DIMENSION, "SHARE_OFFER.width"),
	OK(SHARE_OFFER, 12, TESSERA_WIRE_MAX_DIMENSION),
	R(SHARE_OFFER, 16, 0, DIMENSION, "SHARE_OFFER.height"),
	R(SHARE_OFFER, 16, TESSERA_WIRE_MAX_DIMENSION + 1, DIMENSION, "SHARE_OFFER.height"),
	R(SHARE_OFFER, 20, TESSERA_WIRE_MAX_TITLE_LENGTH + 1, COUNT, "SHARE_OFFER.length"),
	R(SHARE_OFFER, 24, 0x01, STRING, "SHARE_OFFER.description"),
	R(SHARE_END, 8, 0, ID, "SHARE_END.share"),
	R(SHARE_END, 12, 1, RESERVED, "SHARE_END.reserved"),
	R(SHARE_FRAME, 8, 0, ID, "SHARE_FRAME.share"),
	R(SHARE_FRAME, 12, 0, ID, "SHARE_FRAME.buffer"),
	R(SHARE_FRAME, 16, NEG(1), COORDINATE, "SHARE_FRAME.x"),
	R(SHARE_FRAME, 20, TESSERA_WIRE_MAX_DIMENSION + 1, COORDINATE, "SHARE_FRAME.y"),
	R(SHARE_FRAME, 24, NEG(1), DIMENSION, "SHARE_FRAME.width"),
	R(SHARE_FRAME, 28, TESSERA_WIRE_MAX_DIMENSION + 1, DIMENSION, "SHARE_FRAME.height"),
	R(SHARE_FRAME, 24, TESSERA_WIRE_MAX_DIMENSION, RANGE, "SHARE_FRAME.width"),
	R(SHARE_FRAME, 20, TESSERA_WIRE_MAX_DIMENSION, RANGE, "SHARE_FRAME.height"),
	OK(SHARE_FRAME, 24, TESSERA_WIRE_MAX_DIMENSION - 10),
	OK(SHARE_FRAME, 24, 0),

	/* CLIPBOARD_DATA / CLIPBOARD_PASTE (11 bytes of data) */
	R(CLIPBOARD_DATA, 8, 0, ID, "CLIPBOARD_DATA.transfer"),
	R(CLIPBOARD_DATA, 12, 0, VALUE, "CLIPBOARD_DATA.type"),
	R(CLIPBOARD_DATA, 12, 4, VALUE, "CLIPBOARD_DATA.type"),
	OK(CLIPBOARD_DATA, 12, 1),
	OK(CLIPBOARD_DATA, 12, 3),
	R(CLIPBOARD_DATA, 16, 2, VALUE, "CLIPBOARD_DATA.flags"),
	OK(CLIPBOARD_DATA, 16, 0),
	R(CLIPBOARD_DATA, 20, TESSERA_WIRE_MAX_CLIPBOARD_CHUNK + 1, COUNT, "CLIPBOARD_DATA.length"),
	R(CLIPBOARD_DATA, 20, 17, SIZE, "CLIPBOARD_DATA.data"),
	R(CLIPBOARD_DATA, 20, 8, SIZE, "CLIPBOARD_DATA.data"),
	OK(CLIPBOARD_DATA, 20, 12), /* takes a zero padding byte: data may hold NULs */
	{T(CLIPBOARD_DATA), P1(39, 1, 'x'), E(RESERVED), "CLIPBOARD_DATA.data"}, /* padding */
	R(CLIPBOARD_PASTE, 8, 0, ID, "CLIPBOARD_PASTE.transfer"),
	R(CLIPBOARD_PASTE, 12, 0, VALUE, "CLIPBOARD_PASTE.type"),
	R(CLIPBOARD_PASTE, 12, 4, VALUE, "CLIPBOARD_PASTE.type"),
	R(CLIPBOARD_PASTE, 16, 2, VALUE, "CLIPBOARD_PASTE.flags"),
	R(CLIPBOARD_PASTE, 20, TESSERA_WIRE_MAX_CLIPBOARD_CHUNK + 1, COUNT,
		"CLIPBOARD_PASTE.length"),
	R(CLIPBOARD_PASTE, 20, 17, SIZE, "CLIPBOARD_PASTE.data"),
	/* CLIPBOARD_FAIL / CLIPBOARD_CANCEL */
	R(CLIPBOARD_FAIL, 8, 0, ID, "CLIPBOARD_FAIL.transfer"),
	R(CLIPBOARD_FAIL, 12, 0, VALUE, "CLIPBOARD_FAIL.reason"),
	R(CLIPBOARD_FAIL, 12, TESSERA_WIRE_CLIPBOARD_REASON_MAX + 1, VALUE, "CLIPBOARD_FAIL.reason"),
	OK(CLIPBOARD_FAIL, 12, TESSERA_WIRE_CLIPBOARD_REASON_MAX),
	R(CLIPBOARD_CANCEL, 8, 0, ID, "CLIPBOARD_CANCEL.transfer"),
	R(CLIPBOARD_CANCEL, 12, 0, VALUE, "CLIPBOARD_CANCEL.reason"),
	R(CLIPBOARD_CANCEL, 12, TESSERA_WIRE_CLIPBOARD_REASON_MAX + 1, VALUE,
		"CLIPBOARD_CANCEL.reason"),
	/* CLIPBOARD_REQUEST */
	R(CLIPBOARD_REQUEST, 8, 0, ID, "CLIPBOARD_REQUEST.transfer"),
	R(CLIPBOARD_REQUEST, 12, 0, VALUE, "CLIPBOARD_REQUEST.types"),
	R(CLIPBOARD_REQUEST, 12, 1, VALUE, "CLIPBOARD_REQUEST.types"),
	R(CLIPBOARD_REQUEST, 12, 0x10, VALUE, "CLIPBOARD_REQUEST.types"),
	OK(CLIPBOARD_REQUEST, 12, 0x4),
	R(CLIPBOARD_REQUEST, 16, 0, VALUE, "CLIPBOARD_REQUEST.limit"),
	R(CLIPBOARD_REQUEST, 16, TESSERA_WIRE_MAX_CLIPBOARD_SIZE + 1, VALUE,
		"CLIPBOARD_REQUEST.limit"),
	OK(CLIPBOARD_REQUEST, 16, TESSERA_WIRE_MAX_CLIPBOARD_SIZE),
	R(CLIPBOARD_REQUEST, 20, 1, RESERVED, "CLIPBOARD_REQUEST.reserved"),
};

static enum tessera_wire_direction dir_of(uint16_t type) {
	return type & 0x8000 ? TESSERA_WIRE_EVENTS : TESSERA_WIRE_REQUESTS;
}

static void run_case(const struct reject_case *c, size_t index) {
	struct tessera_wire_msg m;
	static struct wire_bytes e;
	if (!CHECK(wire_sample(c->type, &m, &e))) {
		return;
	}
	for (size_t i = 0; i < 2; i++) {
		if (c->patch[i].width != 0) {
			le_put(e.bytes + c->patch[i].off, c->patch[i].width, c->patch[i].value);
		}
	}
	struct tessera_wire_msg d;
	struct tessera_wire_error err = {0};
	enum tessera_wire_error_code code =
		tessera_wire_decode(e.bytes, e.len, dir_of(c->type), &d, &err);
	bool ok = CHECK_EQ(code, c->code);
	if (c->code != TESSERA_WIRE_ERROR_NONE) {
		ok = CHECK_EQ(err.code, c->code) && ok;
		ok = CHECK_STR(err.field, c->field) && ok;
		ok = CHECK_EQ(err.type, c->type) && ok;
		ok = CHECK(err.reason != NULL && err.reason[0] != '\0') && ok;
	}
	if (!ok) {
		fprintf(stderr, "  case %zu: %s, patch +%u = 0x%" PRIx64 ": got %s (%s: %s)\n",
			index, tessera_wire_type_name(c->type), c->patch[0].off,
			c->patch[0].value, tessera_wire_error_code_name(code),
			err.field ? err.field : "-", err.reason ? err.reason : "-");
		return;
	}

}

/* Raw text bytes in SET_TITLE: strict UTF-8 and the forbidden characters. */
static void test_title_bytes(void) {
	static const struct {
		const char *text;
		size_t len;
		bool valid;
	} texts[] = {
		{"", 0, true},
		{"plain ascii ~", 13, true},
		{"\xc2\xa0", 2, true}, /* U+00A0, first after C1 */
		{"\xdf\xbf", 2, true}, /* U+07FF */
		{"\xe0\xa0\x80", 3, true}, /* U+0800 */
		{"\xed\x9f\xbf", 3, true}, /* U+D7FF */
		{"\xee\x80\x80", 3, true}, /* U+E000 */
		{"\xef\xbf\xbd", 3, true}, /* U+FFFD */
		{"\xf0\x90\x80\x80", 4, true}, /* U+10000 */
		{"\xf4\x8f\xbf\xbf", 4, true}, /* U+10FFFF */
		{"\xe2\x80\xae", 3, true}, /* U+202E (bidi: allowed, hosts neutralise) */
		{"a\0b", 3, false}, /* NUL */
		{"\x01", 1, false},
		{"\t", 1, false},
		{"\n", 1, false},
		{"\x1f", 1, false},
		{"\x7f", 1, false}, /* DEL */
		{"\xc2\x80", 2, false}, /* U+0080 C1 */
		{"\xc2\x9f", 2, false}, /* U+009F C1 */
		{"\x80", 1, false}, /* lone continuation */
		{"\xbf", 1, false},
		{"\xc0\x80", 2, false}, /* overlong NUL */
		{"\xc1\xbf", 2, false}, /* overlong */
		{"\xe0\x80\x80", 3, false}, /* overlong */
		{"\xe0\x9f\xbf", 3, false}, /* overlong U+07FF */
		{"\xf0\x80\x80\x80", 4, false}, /* overlong */
		{"\xf0\x8f\xbf\xbf", 4, false}, /* overlong U+FFFF */
		{"\xed\xa0\x80", 3, false}, /* U+D800 surrogate */
		{"\xed\xbf\xbf", 3, false}, /* U+DFFF surrogate */
		{"\xf4\x90\x80\x80", 4, false}, /* U+110000 */
		{"\xf5\x80\x80\x80", 4, false},
		{"\xf8\x88\x80\x80\x80", 5, false}, /* 5-byte form */
		{"\xfe", 1, false},
		{"\xff", 1, false},
		{"\xc3", 1, false}, /* truncated */
		{"\xe2\x82", 2, false},
		{"\xf0\x9f\x98", 3, false},
		{"\xc3(", 2, false}, /* bad continuation */
		{"\xe2(\xa1", 3, false},
		{"ok\xe2\x82", 4, false}, /* truncated at the end */
	};
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		uint8_t buf[64] = {0};
		size_t size = (16 + texts[i].len + 7) & ~(size_t)7;
		le_put(buf, 2, TESSERA_WIRE_SET_TITLE);
		le_put(buf + 4, 4, size);
		le_put(buf + 8, 4, 1);
		le_put(buf + 12, 4, texts[i].len);
		memcpy(buf + 16, texts[i].text, texts[i].len);
		struct tessera_wire_msg m;
		struct tessera_wire_error err = {0};
		enum tessera_wire_error_code code = tessera_wire_decode(buf, size,
			TESSERA_WIRE_REQUESTS, &m, &err);
		CHECK_EQ(tessera_wire_string_valid(texts[i].text, texts[i].len), texts[i].valid);
		if (texts[i].valid) {
			if (CHECK_EQ(code, TESSERA_WIRE_ERROR_NONE)) {
				CHECK_EQ(m.string.length, texts[i].len);
				CHECK(memcmp(m.string.text, texts[i].text, texts[i].len) == 0);
				CHECK_EQ(m.string.text[texts[i].len], 0);
			}
		} else {
			if (!CHECK_EQ(code, TESSERA_WIRE_ERROR_STRING)) {
				fprintf(stderr, "  text case %zu\n", i);
			}
			CHECK_STR(err.field, "SET_TITLE.text");
		}
	}

	/* The encoder refuses the same strings. */
	struct tessera_wire_msg m;
	memset(&m, 0, sizeof(m));
	m.type = TESSERA_WIRE_SET_TITLE;
	m.string.surface = 1;
	m.string.length = 3;
	memcpy(m.string.text, "\xed\xa0\x80", 4);
	uint8_t out[64];
	struct tessera_wire_writer w;
	tessera_wire_writer_init(&w, out, sizeof(out));
	struct tessera_wire_error err = {0};
	CHECK_EQ(tessera_wire_encode(&w, &m, &err), TESSERA_WIRE_ERROR_STRING);
	CHECK_STR(err.field, "SET_TITLE.text");
	CHECK_EQ(w.len, 0);
}

/* Sanitizer: anything in, a valid wire string out. */
static void test_sanitize(void) {
	char out[TESSERA_WIRE_MAX_TITLE_LENGTH + 1];
	size_t n;

	n = tessera_wire_sanitize_string(out, 64, "Hello, w\xc3\xb6rld");
	CHECK_EQ(n, 13);
	CHECK_STR(out, "Hello, w\xc3\xb6rld");

	n = tessera_wire_sanitize_string(out, 64, "tab\there\nnl\x7f\xc2\x85!");
	CHECK_STR(out, "tab here nl  !");
	CHECK_EQ(n, strlen(out));

	n = tessera_wire_sanitize_string(out, 64, "bad\xff\xc0\x80x");
	CHECK_STR(out, "bad\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdx");

	n = tessera_wire_sanitize_string(out, 64, "\xed\xa0\x80");
	CHECK_STR(out, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");

	/* truncation at a character boundary */
	n = tessera_wire_sanitize_string(out, 4, "ab\xe2\x82\xac");
	CHECK_STR(out, "ab");
	CHECK_EQ(n, 2);
	n = tessera_wire_sanitize_string(out, 5, "ab\xe2\x82\xac");
	CHECK_STR(out, "ab\xe2\x82\xac");
	n = tessera_wire_sanitize_string(out, 0, "abc");
	CHECK_EQ(n, 0);
	CHECK_STR(out, "");
	n = tessera_wire_sanitize_string(out, 3, "ab\xff");
	CHECK_STR(out, "ab"); /* U+FFFD does not fit */

	/* pseudo-random garbage: always valid, bounded */
	uint32_t seed = 12345;
	for (int round = 0; round < 2000; round++) {
		char in[300];
		size_t len = (size_t)(round % 299);
		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245 + 12345;
			char c = (char)(seed >> 16);
			in[i] = c == 0 ? 'z' : c;
		}
		in[len] = '\0';
		size_t max = (size_t)(round % 40) + (round % 3 == 0 ? 600 : 0);
		n = tessera_wire_sanitize_string(out, max, in);
		CHECK(n <= max);
		CHECK_EQ(strlen(out), n);
		CHECK(tessera_wire_string_valid(out, n));
	}
}

/* offset + stride * height against the resource size (§6.3). */
static void test_check_buffer(void) {
	struct tessera_wire_buffer_create b = {
		.buffer = 1,
		.resource = 2,
		.format = TESSERA_WIRE_FORMAT_XRGB8888,
		.width = 640,
		.height = 480,
		.stride = 2560,
		.offset = 0,
	};
	struct tessera_wire_error err = {0};
	const uint64_t exact = 2560ull * 480;
	CHECK_EQ(tessera_wire_check_buffer(&b, exact, &err), TESSERA_WIRE_ERROR_NONE);
	CHECK_EQ(tessera_wire_check_buffer(&b, exact - 1, &err), TESSERA_WIRE_ERROR_RANGE);
	CHECK_STR(err.field, "BUFFER_CREATE.offset");
	CHECK_EQ(tessera_wire_check_buffer(&b, 0, &err), TESSERA_WIRE_ERROR_RANGE);
	b.offset = 4096;
	CHECK_EQ(tessera_wire_check_buffer(&b, exact + 4096, &err), TESSERA_WIRE_ERROR_NONE);
	CHECK_EQ(tessera_wire_check_buffer(&b, exact + 4092, &err), TESSERA_WIRE_ERROR_RANGE);

	/* offset + stride * height overflows 64 bits */
	b.offset = UINT64_MAX - 3;
	CHECK_EQ(tessera_wire_check_buffer(&b, UINT64_MAX, &err), TESSERA_WIRE_ERROR_RANGE);
	CHECK_STR(err.field, "BUFFER_CREATE.offset");
	b.offset = UINT64_MAX - exact + 1; /* end = 2^64 exactly */
	b.offset &= ~(uint64_t)3;
	CHECK_EQ(tessera_wire_check_buffer(&b, UINT64_MAX, &err), TESSERA_WIRE_ERROR_RANGE);
	b.offset = UINT64_MAX - exact - 3; /* end = 2^64 - 4 */
	CHECK_EQ(tessera_wire_check_buffer(&b, UINT64_MAX, &err), TESSERA_WIRE_ERROR_NONE);

	/* the largest buffer: 16384 rows of the maximum stride = 4 GiB */
	b.offset = 0;
	b.width = TESSERA_WIRE_MAX_DIMENSION;
	b.height = TESSERA_WIRE_MAX_DIMENSION;
	b.stride = TESSERA_WIRE_MAX_STRIDE;
	CHECK_EQ(tessera_wire_check_buffer(&b, 1ull << 32, &err), TESSERA_WIRE_ERROR_NONE);
	CHECK_EQ(tessera_wire_check_buffer(&b, (1ull << 32) - 1, &err), TESSERA_WIRE_ERROR_RANGE);

	/* the field rules are re-checked (struct not from the decoder) */
	struct tessera_wire_buffer_create bad = b;
	bad.width = 0;
	CHECK_EQ(tessera_wire_check_buffer(&bad, UINT64_MAX, &err), TESSERA_WIRE_ERROR_DIMENSION);
	bad = b;
	bad.height = 0xffffffff;
	CHECK_EQ(tessera_wire_check_buffer(&bad, UINT64_MAX, &err), TESSERA_WIRE_ERROR_DIMENSION);
	bad = b;
	bad.stride = 0xffffffff;
	CHECK_EQ(tessera_wire_check_buffer(&bad, UINT64_MAX, &err), TESSERA_WIRE_ERROR_STRIDE);
	bad = b;
	bad.width = 0x40000001; /* width * 4 wraps to 4 in 32 bits */
	bad.stride = 4;
	CHECK_EQ(tessera_wire_check_buffer(&bad, UINT64_MAX, &err), TESSERA_WIRE_ERROR_DIMENSION);
	bad = b;
	bad.stride = 4 * b.width - 4;
	CHECK_EQ(tessera_wire_check_buffer(&bad, UINT64_MAX, &err), TESSERA_WIRE_ERROR_STRIDE);
	bad = b;
	bad.format = 0;
	CHECK_EQ(tessera_wire_check_buffer(&bad, UINT64_MAX, &err), TESSERA_WIRE_ERROR_FORMAT);
	bad = b;
	bad.offset = 1;
	CHECK_EQ(tessera_wire_check_buffer(&bad, UINT64_MAX, &err), TESSERA_WIRE_ERROR_ALIGNMENT);

	CHECK_EQ(tessera_wire_format_bpp(TESSERA_WIRE_FORMAT_ARGB8888), 4);
	CHECK_EQ(tessera_wire_format_bpp(0x3231564e), 0);
}

static void test_check_range(void) {
	struct tessera_wire_error err = {0};
	CHECK_EQ(tessera_wire_check_range(0, 0, 0, &err), TESSERA_WIRE_ERROR_NONE);
	CHECK_EQ(tessera_wire_check_range(0, 100, 100, &err), TESSERA_WIRE_ERROR_NONE);
	CHECK_EQ(tessera_wire_check_range(1, 100, 100, &err), TESSERA_WIRE_ERROR_RANGE);
	CHECK_EQ(tessera_wire_check_range(100, 1, 100, &err), TESSERA_WIRE_ERROR_RANGE);
	CHECK_EQ(tessera_wire_check_range(UINT64_MAX, 1, UINT64_MAX, &err),
		TESSERA_WIRE_ERROR_RANGE);
	CHECK(strstr(err.reason, "overflow") != NULL);
	CHECK_EQ(tessera_wire_check_range(1, UINT64_MAX, UINT64_MAX, &err),
		TESSERA_WIRE_ERROR_RANGE);
	CHECK_EQ(tessera_wire_check_range(UINT64_MAX - 10, 10, UINT64_MAX, &err),
		TESSERA_WIRE_ERROR_NONE);
	CHECK_EQ(tessera_wire_check_range(4096, 64 + 65536, 4096 + 64 + 65536, &err),
		TESSERA_WIRE_ERROR_NONE);
	CHECK(tessera_wire_check_range(0, 1, 0, NULL) == TESSERA_WIRE_ERROR_RANGE);
}

/* DISCARDED presentation: only surface and serial. */
static void test_discarded(void) {
	struct tessera_wire_msg m;
	memset(&m, 0, sizeof(m));
	m.type = TESSERA_WIRE_PRESENTED;
	m.presented.surface = 3;
	m.presented.serial = 9;
	m.presented.flags = TESSERA_WIRE_PRESENTED_DISCARDED;
	uint8_t out[64];
	struct tessera_wire_writer w;
	tessera_wire_writer_init(&w, out, sizeof(out));
	CHECK_EQ(tessera_wire_encode(&w, &m, NULL), TESSERA_WIRE_ERROR_NONE);
	m.presented.seq = 1;
	struct tessera_wire_error err = {0};
	CHECK_EQ(tessera_wire_encode(&w, &m, &err), TESSERA_WIRE_ERROR_VALUE);
	CHECK_STR(err.field, "PRESENTED.flags");
	CHECK_EQ(w.len, 48);
}

int main(void) {
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		run_case(&cases[i], i);
	}
	test_title_bytes();
	test_sanitize();
	test_check_buffer();
	test_check_range();
	test_discarded();
	return test_finish("wire-rejections");
}
