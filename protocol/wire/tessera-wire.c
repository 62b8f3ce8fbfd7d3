/*
 * tessera wire protocol v1: message tables, validating decoder, encoder and
 * resource range checks. See tessera-wire.h and protocol/PROTOCOL.md.
 *
 * Every message is described once, by a table of its fixed fields (wire
 * offset, struct offset, width, rule) plus an optional variable part and an
 * optional check across fields. Decoder and encoder both walk that table,
 * and the encoder validates its output with the decoder, so the two cannot
 * drift apart.
 */
#include <stddef.h>
#include <string.h>

#include "tessera-wire.h"
#include "wire-private.h"

enum field_kind {
	K_U16,
	K_U32,
	K_I32,
	K_U64,
};

enum field_check {
	CHK_ANY, /* any value */
	CHK_RESERVED, /* must be 0; not stored */
	CHK_NONZERO, /* must not be 0 */
	CHK_RANGE, /* min <= value <= max (as signed 64-bit) */
	CHK_MASK, /* no bit outside max */
};

struct field {
	const char *name;
	uint16_t wire; /* offset in the message */
	uint16_t mem; /* offset in the union member */
	uint8_t kind;
	uint8_t check;
	uint16_t err; /* code for a failed check */
	int64_t min, max;
};

enum var_kind {
	VAR_NONE,
	VAR_DAMAGE, /* struct tessera_wire_rect[], buffer coordinates */
	VAR_REGION, /* struct tessera_wire_rect[], surface coordinates */
	VAR_STRING, /* char[], NUL added in the struct */
	VAR_KEYS, /* uint32_t[] */
	VAR_BYTES, /* uint8_t[], any values */
};

typedef enum tessera_wire_error_code (*check_fn)(const struct tessera_wire_msg *msg,
	struct tessera_wire_error *err);

struct msg_desc {
	uint16_t type;
	uint8_t dir;
	uint8_t var;
	uint16_t fixed; /* size of the fixed part, header included */
	uint16_t struct_size; /* size of the union member */
	const char *name;
	const struct field *fields;
	size_t n_fields;
	/* variable part */
	uint16_t count_mem; /* struct offset of the uint32_t count/length */
	uint16_t array_mem; /* struct offset of the array */
	uint32_t max_count; /* capacity of the array in the struct */
	const char *var_name;
	check_fn check;
};

/* offsetof(st, m), failing to compile unless sizeof(m) == sz */
#define MEMBER(st, m, sz) \
	(offsetof(st, m) + 0 * sizeof(char[sizeof(((st *)0)->m) == (sz) ? 1 : -1]))

#define FLD(n, off, st, m, k, sz, chk, e, lo, hi) { \
	.name = (n), .wire = (off), .mem = MEMBER(st, m, sz), .kind = (k), \
	.check = (chk), .err = (e), .min = (lo), .max = (hi), \
}
#define F_U16(n, off, st, m) FLD(n, off, st, m, K_U16, 2, CHK_ANY, 0, 0, 0)
#define F_U32(n, off, st, m) FLD(n, off, st, m, K_U32, 4, CHK_ANY, 0, 0, 0)
#define F_I32(n, off, st, m) FLD(n, off, st, m, K_I32, 4, CHK_ANY, 0, 0, 0)
#define F_U64(n, off, st, m) FLD(n, off, st, m, K_U64, 8, CHK_ANY, 0, 0, 0)
#define F_ID(n, off, st, m) \
	FLD(n, off, st, m, K_U32, 4, CHK_NONZERO, TESSERA_WIRE_ERROR_ID, 0, 0)
#define F_NZ64(n, off, st, m) \
	FLD(n, off, st, m, K_U64, 8, CHK_NONZERO, TESSERA_WIRE_ERROR_VALUE, 0, 0)
#define F_U32R(n, off, st, m, e, lo, hi) \
	FLD(n, off, st, m, K_U32, 4, CHK_RANGE, TESSERA_WIRE_ERROR_##e, lo, hi)
#define F_I32R(n, off, st, m, e, lo, hi) \
	FLD(n, off, st, m, K_I32, 4, CHK_RANGE, TESSERA_WIRE_ERROR_##e, lo, hi)
#define F_MASK(n, off, st, m, mask) \
	FLD(n, off, st, m, K_U32, 4, CHK_MASK, TESSERA_WIRE_ERROR_VALUE, 0, mask)
#define F_COORD(n, off, st, m) \
	F_I32R(n, off, st, m, COORDINATE, -TESSERA_WIRE_MAX_COORD, TESSERA_WIRE_MAX_COORD)
#define F_FIXED(n, off, st, m) F_I32R(n, off, st, m, COORDINATE, \
	-(int64_t)TESSERA_WIRE_MAX_FIXED_COORD, TESSERA_WIRE_MAX_FIXED_COORD)
#define F_DIM(n, off, st, m) \
	F_I32R(n, off, st, m, DIMENSION, 1, TESSERA_WIRE_MAX_DIMENSION)
#define F_DIM0(n, off, st, m) \
	F_I32R(n, off, st, m, DIMENSION, 0, TESSERA_WIRE_MAX_DIMENSION)
#define F_RSV16(n, off) { .name = (n), .wire = (off), .kind = K_U16, \
	.check = CHK_RESERVED, .err = TESSERA_WIRE_ERROR_RESERVED }
#define F_RSV32(n, off) { .name = (n), .wire = (off), .kind = K_U32, \
	.check = CHK_RESERVED, .err = TESSERA_WIRE_ERROR_RESERVED }

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* --- field tables, in wire order --- */

#define ST struct tessera_wire_hello
static const struct field hello_fields[] = {
	F_U32R("HELLO.max_version", 8, ST, max_version, VALUE, 1, UINT32_MAX),
	F_U32R("HELLO.min_version", 12, ST, min_version, VALUE, 1, UINT32_MAX),
	F_U64("HELLO.features", 16, ST, features),
};
#undef ST

#define ST struct tessera_wire_area
static const struct field event_ring_fields[] = {
	F_ID("EVENT_RING.resource", 8, ST, resource),
	F_U32("EVENT_RING.size", 12, ST, size),
	F_U64("EVENT_RING.offset", 16, ST, offset),
};
static const struct field keymap_area_fields[] = {
	F_ID("SET_KEYMAP_AREA.resource", 8, ST, resource),
	F_U32R("SET_KEYMAP_AREA.size", 12, ST, size, VALUE, 1, TESSERA_WIRE_MAX_KEYMAP_SIZE),
	F_U64("SET_KEYMAP_AREA.offset", 16, ST, offset),
};
#undef ST

#define ST struct tessera_wire_surface_ref
static const struct field surface_create_fields[] = {
	F_ID("SURFACE_CREATE.surface", 8, ST, surface),
	F_RSV32("SURFACE_CREATE.reserved", 12),
};
static const struct field surface_destroy_fields[] = {
	F_ID("SURFACE_DESTROY.surface", 8, ST, surface),
	F_RSV32("SURFACE_DESTROY.reserved", 12),
};
static const struct field toplevel_create_fields[] = {
	F_ID("TOPLEVEL_CREATE.surface", 8, ST, surface),
	F_RSV32("TOPLEVEL_CREATE.reserved", 12),
};
static const struct field close_fields[] = {
	F_ID("CLOSE.surface", 8, ST, surface),
	F_RSV32("CLOSE.reserved", 12),
};
static const struct field popup_done_fields[] = {
	F_ID("POPUP_DONE.surface", 8, ST, surface),
	F_RSV32("POPUP_DONE.reserved", 12),
};
#undef ST

#define ST struct tessera_wire_commit
static const struct field commit_fields[] = {
	F_ID("COMMIT.surface", 8, ST, surface),
	F_U32("COMMIT.buffer", 12, ST, buffer),
	F_U32("COMMIT.serial", 16, ST, serial),
	F_MASK("COMMIT.flags", 20, ST, flags, TESSERA_WIRE_COMMIT_FRAME |
		TESSERA_WIRE_COMMIT_PRESENTATION | TESSERA_WIRE_COMMIT_DAMAGE_ALL),
	F_COORD("COMMIT.dx", 24, ST, dx),
	F_COORD("COMMIT.dy", 28, ST, dy),
	F_I32R("COMMIT.scale", 32, ST, scale, VALUE, 1, TESSERA_WIRE_MAX_SCALE),
	F_U32R("COMMIT.transform", 36, ST, transform, VALUE, 0, 7),
	F_U32R("COMMIT.damage_count", 40, ST, damage_count, COUNT, 0,
		TESSERA_WIRE_MAX_DAMAGE_RECTS),
	F_RSV32("COMMIT.reserved", 44),
};
#undef ST

#define ST struct tessera_wire_region
static const struct field input_region_fields[] = {
	F_ID("SET_INPUT_REGION.surface", 8, ST, surface),
	F_MASK("SET_INPUT_REGION.flags", 12, ST, flags, TESSERA_WIRE_REGION_INFINITE),
	F_U32R("SET_INPUT_REGION.rect_count", 16, ST, rect_count, COUNT, 0,
		TESSERA_WIRE_MAX_REGION_RECTS),
	F_RSV32("SET_INPUT_REGION.reserved", 20),
};
static const struct field opaque_region_fields[] = {
	F_ID("SET_OPAQUE_REGION.surface", 8, ST, surface),
	F_MASK("SET_OPAQUE_REGION.flags", 12, ST, flags, TESSERA_WIRE_REGION_INFINITE),
	F_U32R("SET_OPAQUE_REGION.rect_count", 16, ST, rect_count, COUNT, 0,
		TESSERA_WIRE_MAX_REGION_RECTS),
	F_RSV32("SET_OPAQUE_REGION.reserved", 20),
};
#undef ST

#define ST struct tessera_wire_buffer_create
static const struct field buffer_create_fields[] = {
	F_ID("BUFFER_CREATE.buffer", 8, ST, buffer),
	F_ID("BUFFER_CREATE.resource", 12, ST, resource),
	F_U32("BUFFER_CREATE.format", 16, ST, format),
	F_U32R("BUFFER_CREATE.width", 20, ST, width, DIMENSION, 1, TESSERA_WIRE_MAX_DIMENSION),
	F_U32R("BUFFER_CREATE.height", 24, ST, height, DIMENSION, 1, TESSERA_WIRE_MAX_DIMENSION),
	F_U32R("BUFFER_CREATE.stride", 28, ST, stride, STRIDE, 1, TESSERA_WIRE_MAX_STRIDE),
	F_U64("BUFFER_CREATE.offset", 32, ST, offset),
};
#undef ST

#define ST struct tessera_wire_buffer_destroy
static const struct field buffer_destroy_fields[] = {
	F_ID("BUFFER_DESTROY.buffer", 8, ST, buffer),
	F_RSV32("BUFFER_DESTROY.reserved", 12),
};
#undef ST

#define ST struct tessera_wire_string
static const struct field title_fields[] = {
	F_ID("SET_TITLE.surface", 8, ST, surface),
	F_U32R("SET_TITLE.length", 12, ST, length, COUNT, 0, TESSERA_WIRE_MAX_TITLE_LENGTH),
};
static const struct field app_id_fields[] = {
	F_ID("SET_APP_ID.surface", 8, ST, surface),
	F_U32R("SET_APP_ID.length", 12, ST, length, COUNT, 0, TESSERA_WIRE_MAX_APP_ID_LENGTH),
};
#undef ST

#define ST struct tessera_wire_set_parent
static const struct field set_parent_fields[] = {
	F_ID("TOPLEVEL_SET_PARENT.surface", 8, ST, surface),
	F_U32("TOPLEVEL_SET_PARENT.parent", 12, ST, parent),
};
#undef ST

#define ST struct tessera_wire_size_limits
static const struct field size_limits_fields[] = {
	F_ID("TOPLEVEL_SET_SIZE_LIMITS.surface", 8, ST, surface),
	F_DIM0("TOPLEVEL_SET_SIZE_LIMITS.min_width", 12, ST, min_width),
	F_DIM0("TOPLEVEL_SET_SIZE_LIMITS.min_height", 16, ST, min_height),
	F_DIM0("TOPLEVEL_SET_SIZE_LIMITS.max_width", 20, ST, max_width),
	F_DIM0("TOPLEVEL_SET_SIZE_LIMITS.max_height", 24, ST, max_height),
	F_RSV32("TOPLEVEL_SET_SIZE_LIMITS.reserved", 28),
};
#undef ST

#define ST struct tessera_wire_toplevel_request
static const struct field toplevel_request_fields[] = {
	F_ID("TOPLEVEL_REQUEST.surface", 8, ST, surface),
	F_U32R("TOPLEVEL_REQUEST.action", 12, ST, action, VALUE,
		TESSERA_WIRE_TOPLEVEL_SET_MAXIMIZED, TESSERA_WIRE_TOPLEVEL_SET_MINIMIZED),
	F_U32("TOPLEVEL_REQUEST.output", 16, ST, output),
	F_RSV32("TOPLEVEL_REQUEST.reserved", 20),
};
#undef ST

#define ST struct tessera_wire_surface_serial
static const struct field move_fields[] = {
	F_ID("TOPLEVEL_MOVE.surface", 8, ST, surface),
	F_U32("TOPLEVEL_MOVE.serial", 12, ST, serial),
};
static const struct field ack_configure_fields[] = {
	F_ID("ACK_CONFIGURE.surface", 8, ST, surface),
	F_U32("ACK_CONFIGURE.serial", 12, ST, serial),
};
static const struct field popup_grab_fields[] = {
	F_ID("POPUP_GRAB.surface", 8, ST, surface),
	F_U32("POPUP_GRAB.serial", 12, ST, serial),
};
static const struct field pointer_leave_fields[] = {
	F_ID("POINTER_LEAVE.surface", 8, ST, surface),
	F_U32("POINTER_LEAVE.serial", 12, ST, serial),
};
static const struct field keyboard_leave_fields[] = {
	F_ID("KEYBOARD_LEAVE.surface", 8, ST, surface),
	F_U32("KEYBOARD_LEAVE.serial", 12, ST, serial),
};
#undef ST

#define ST struct tessera_wire_resize
static const struct field resize_fields[] = {
	F_ID("TOPLEVEL_RESIZE.surface", 8, ST, surface),
	F_U32("TOPLEVEL_RESIZE.serial", 12, ST, serial),
	F_U32R("TOPLEVEL_RESIZE.edges", 16, ST, edges, VALUE, 0, 10),
	F_RSV32("TOPLEVEL_RESIZE.reserved", 20),
};
#undef ST

#define ST struct tessera_wire_window_menu
static const struct field window_menu_fields[] = {
	F_ID("TOPLEVEL_SHOW_WINDOW_MENU.surface", 8, ST, surface),
	F_U32("TOPLEVEL_SHOW_WINDOW_MENU.serial", 12, ST, serial),
	F_COORD("TOPLEVEL_SHOW_WINDOW_MENU.x", 16, ST, x),
	F_COORD("TOPLEVEL_SHOW_WINDOW_MENU.y", 20, ST, y),
};
#undef ST

#define ST struct tessera_wire_decoration
static const struct field decoration_fields[] = {
	F_ID("TOPLEVEL_SET_DECORATION.surface", 8, ST, surface),
	F_U32R("TOPLEVEL_SET_DECORATION.mode", 12, ST, mode, VALUE,
		TESSERA_WIRE_DECORATION_CLIENT_SIDE, TESSERA_WIRE_DECORATION_SERVER_SIDE),
};
#undef ST

#define ST struct tessera_wire_window_geometry
static const struct field window_geometry_fields[] = {
	F_ID("SET_WINDOW_GEOMETRY.surface", 8, ST, surface),
	F_RSV32("SET_WINDOW_GEOMETRY.reserved", 12),
	F_COORD("SET_WINDOW_GEOMETRY.x", 16, ST, x),
	F_COORD("SET_WINDOW_GEOMETRY.y", 20, ST, y),
	F_DIM("SET_WINDOW_GEOMETRY.width", 24, ST, width),
	F_DIM("SET_WINDOW_GEOMETRY.height", 28, ST, height),
};
#undef ST

/* The positioner block at message offset 16, struct offset of `positioner`. */
#define POSITIONER_FIELDS(P, ST) \
	F_DIM(P ".positioner.width", 16, ST, positioner.width), \
	F_DIM(P ".positioner.height", 20, ST, positioner.height), \
	F_COORD(P ".positioner.anchor_x", 24, ST, positioner.anchor_x), \
	F_COORD(P ".positioner.anchor_y", 28, ST, positioner.anchor_y), \
	F_DIM0(P ".positioner.anchor_width", 32, ST, positioner.anchor_width), \
	F_DIM0(P ".positioner.anchor_height", 36, ST, positioner.anchor_height), \
	F_U32R(P ".positioner.anchor", 40, ST, positioner.anchor, VALUE, 0, 8), \
	F_U32R(P ".positioner.gravity", 44, ST, positioner.gravity, VALUE, 0, 8), \
	F_MASK(P ".positioner.constraint_adjustment", 48, ST, \
		positioner.constraint_adjustment, 0x3f), \
	F_COORD(P ".positioner.offset_x", 52, ST, positioner.offset_x), \
	F_COORD(P ".positioner.offset_y", 56, ST, positioner.offset_y), \
	F_MASK(P ".positioner.flags", 60, ST, positioner.flags, \
		TESSERA_WIRE_POSITIONER_REACTIVE | TESSERA_WIRE_POSITIONER_PARENT_SIZE | \
		TESSERA_WIRE_POSITIONER_PARENT_CONFIGURE), \
	F_DIM0(P ".positioner.parent_width", 64, ST, positioner.parent_width), \
	F_DIM0(P ".positioner.parent_height", 68, ST, positioner.parent_height), \
	F_U32(P ".positioner.parent_configure", 72, ST, positioner.parent_configure), \
	F_RSV32(P ".positioner.reserved", 76)

#define ST struct tessera_wire_popup_create
static const struct field popup_create_fields[] = {
	F_ID("POPUP_CREATE.surface", 8, ST, surface),
	F_ID("POPUP_CREATE.parent", 12, ST, parent),
	POSITIONER_FIELDS("POPUP_CREATE", ST),
};
#undef ST

#define ST struct tessera_wire_popup_reposition
static const struct field popup_reposition_fields[] = {
	F_ID("POPUP_REPOSITION.surface", 8, ST, surface),
	F_U32("POPUP_REPOSITION.token", 12, ST, token),
	POSITIONER_FIELDS("POPUP_REPOSITION", ST),
};
#undef ST

#define ST struct tessera_wire_subsurface_create
static const struct field subsurface_create_fields[] = {
	F_ID("SUBSURFACE_CREATE.surface", 8, ST, surface),
	F_ID("SUBSURFACE_CREATE.parent", 12, ST, parent),
};
#undef ST

#define ST struct tessera_wire_subsurface_position
static const struct field subsurface_position_fields[] = {
	F_ID("SUBSURFACE_SET_POSITION.surface", 8, ST, surface),
	F_RSV32("SUBSURFACE_SET_POSITION.reserved", 12),
	F_COORD("SUBSURFACE_SET_POSITION.x", 16, ST, x),
	F_COORD("SUBSURFACE_SET_POSITION.y", 20, ST, y),
};
#undef ST

#define ST struct tessera_wire_subsurface_place
static const struct field subsurface_place_fields[] = {
	F_ID("SUBSURFACE_PLACE.surface", 8, ST, surface),
	F_ID("SUBSURFACE_PLACE.sibling", 12, ST, sibling),
	F_U32R("SUBSURFACE_PLACE.placement", 16, ST, above, VALUE, 0, 1),
	F_RSV32("SUBSURFACE_PLACE.reserved", 20),
};
#undef ST

#define ST struct tessera_wire_subsurface_sync
static const struct field subsurface_sync_fields[] = {
	F_ID("SUBSURFACE_SET_SYNC.surface", 8, ST, surface),
	F_U32R("SUBSURFACE_SET_SYNC.sync", 12, ST, sync, VALUE, 0, 1),
};
#undef ST

#define ST struct tessera_wire_set_cursor
static const struct field set_cursor_fields[] = {
	F_U32("SET_CURSOR.surface", 8, ST, surface),
	F_U32("SET_CURSOR.serial", 12, ST, serial),
	F_COORD("SET_CURSOR.hotspot_x", 16, ST, hotspot_x),
	F_COORD("SET_CURSOR.hotspot_y", 20, ST, hotspot_y),
};
#undef ST

/* events */

#define ST struct tessera_wire_hello_reply
static const struct field hello_reply_fields[] = {
	F_U32R("HELLO_REPLY.version", 8, ST, version, VALUE, 1, UINT32_MAX),
	F_RSV32("HELLO_REPLY.reserved", 12),
	F_U64("HELLO_REPLY.features", 16, ST, features),
};
#undef ST

#define ST struct tessera_wire_error_event
static const struct field error_fields[] = {
	F_U32R("ERROR.code", 8, ST, code, VALUE, 1, UINT32_MAX),
	F_U16("ERROR.request_type", 12, ST, request_type),
	F_RSV16("ERROR.reserved", 14),
	F_U32("ERROR.object", 16, ST, object),
	F_U32("ERROR.offset", 20, ST, offset),
	F_U64("ERROR.count", 24, ST, count),
	F_U32R("ERROR.message_length", 32, ST, message_length, COUNT, 0,
		TESSERA_WIRE_MAX_ERROR_MESSAGE_LENGTH),
	F_RSV32("ERROR.reserved", 36),
};
#undef ST

#define ST struct tessera_wire_keymap
static const struct field keymap_fields[] = {
	F_ID("KEYMAP.resource", 8, ST, resource),
	F_U32R("KEYMAP.size", 12, ST, size, VALUE, 1, TESSERA_WIRE_MAX_KEYMAP_SIZE),
	F_U32R("KEYMAP.format", 16, ST, format, VALUE, TESSERA_WIRE_KEYMAP_FORMAT_XKB_V1,
		TESSERA_WIRE_KEYMAP_FORMAT_XKB_V1),
	F_RSV32("KEYMAP.reserved", 20),
};
#undef ST

#define ST struct tessera_wire_output
static const struct field output_fields[] = {
	F_ID("OUTPUT.output", 8, ST, output),
	F_COORD("OUTPUT.x", 12, ST, x),
	F_COORD("OUTPUT.y", 16, ST, y),
	F_DIM("OUTPUT.width", 20, ST, width),
	F_DIM("OUTPUT.height", 24, ST, height),
	F_U32R("OUTPUT.refresh_mhz", 28, ST, refresh_mhz, VALUE, 0, TESSERA_WIRE_MAX_REFRESH_MHZ),
	F_I32R("OUTPUT.scale", 32, ST, scale, VALUE, 1, TESSERA_WIRE_MAX_SCALE),
	F_U32R("OUTPUT.transform", 36, ST, transform, VALUE, 0, 7),
	F_I32R("OUTPUT.physical_width_mm", 40, ST, physical_width_mm, DIMENSION, 0,
		TESSERA_WIRE_MAX_COORD),
	F_I32R("OUTPUT.physical_height_mm", 44, ST, physical_height_mm, DIMENSION, 0,
		TESSERA_WIRE_MAX_COORD),
};
#undef ST

#define ST struct tessera_wire_output_remove
static const struct field output_remove_fields[] = {
	F_ID("OUTPUT_REMOVE.output", 8, ST, output),
	F_RSV32("OUTPUT_REMOVE.reserved", 12),
};
#undef ST

#define ST struct tessera_wire_surface_output
static const struct field surface_enter_fields[] = {
	F_ID("SURFACE_ENTER.surface", 8, ST, surface),
	F_ID("SURFACE_ENTER.output", 12, ST, output),
};
static const struct field surface_leave_fields[] = {
	F_ID("SURFACE_LEAVE.surface", 8, ST, surface),
	F_ID("SURFACE_LEAVE.output", 12, ST, output),
};
#undef ST

#define ST struct tessera_wire_frame_done
static const struct field frame_done_fields[] = {
	F_ID("FRAME_DONE.surface", 8, ST, surface),
	F_U32("FRAME_DONE.serial", 12, ST, serial),
	F_U32("FRAME_DONE.time", 16, ST, time),
	F_RSV32("FRAME_DONE.reserved", 20),
};
#undef ST

#define ST struct tessera_wire_presented
static const struct field presented_fields[] = {
	F_ID("PRESENTED.surface", 8, ST, surface),
	F_U32("PRESENTED.serial", 12, ST, serial),
	F_U64("PRESENTED.tv_sec", 16, ST, tv_sec),
	F_U32R("PRESENTED.tv_nsec", 24, ST, tv_nsec, VALUE, 0, 999999999),
	F_U32("PRESENTED.refresh_ns", 28, ST, refresh_ns),
	F_U64("PRESENTED.seq", 32, ST, seq),
	F_MASK("PRESENTED.flags", 40, ST, flags,
		TESSERA_WIRE_PRESENTED_KIND_MASK | TESSERA_WIRE_PRESENTED_DISCARDED),
	F_U32("PRESENTED.output", 44, ST, output),
};
#undef ST

#define ST struct tessera_wire_buffer_release
static const struct field buffer_release_fields[] = {
	F_ID("BUFFER_RELEASE.buffer", 8, ST, buffer),
	F_RSV32("BUFFER_RELEASE.reserved", 12),
	F_NZ64("BUFFER_RELEASE.release_point", 16, ST, release_point),
};
#undef ST

#define ST struct tessera_wire_configure
static const struct field configure_fields[] = {
	F_ID("CONFIGURE.surface", 8, ST, surface),
	F_U32("CONFIGURE.serial", 12, ST, serial),
	F_DIM0("CONFIGURE.width", 16, ST, width),
	F_DIM0("CONFIGURE.height", 20, ST, height),
	F_DIM0("CONFIGURE.bounds_width", 24, ST, bounds_width),
	F_DIM0("CONFIGURE.bounds_height", 28, ST, bounds_height),
	F_MASK("CONFIGURE.states", 32, ST, states, 0x1ff),
	F_U32R("CONFIGURE.decoration", 36, ST, decoration, VALUE,
		TESSERA_WIRE_DECORATION_NONE, TESSERA_WIRE_DECORATION_SERVER_SIDE),
};
#undef ST

#define ST struct tessera_wire_popup_configure
static const struct field popup_configure_fields[] = {
	F_ID("POPUP_CONFIGURE.surface", 8, ST, surface),
	F_U32("POPUP_CONFIGURE.serial", 12, ST, serial),
	F_COORD("POPUP_CONFIGURE.x", 16, ST, x),
	F_COORD("POPUP_CONFIGURE.y", 20, ST, y),
	F_DIM("POPUP_CONFIGURE.width", 24, ST, width),
	F_DIM("POPUP_CONFIGURE.height", 28, ST, height),
};
#undef ST

#define ST struct tessera_wire_popup_repositioned
static const struct field popup_repositioned_fields[] = {
	F_ID("POPUP_REPOSITIONED.surface", 8, ST, surface),
	F_U32("POPUP_REPOSITIONED.token", 12, ST, token),
};
#undef ST

#define ST struct tessera_wire_pointer_enter
static const struct field pointer_enter_fields[] = {
	F_ID("POINTER_ENTER.surface", 8, ST, surface),
	F_U32("POINTER_ENTER.serial", 12, ST, serial),
	F_FIXED("POINTER_ENTER.x", 16, ST, x),
	F_FIXED("POINTER_ENTER.y", 20, ST, y),
};
#undef ST

#define ST struct tessera_wire_pointer_motion
static const struct field pointer_motion_fields[] = {
	F_U32("POINTER_MOTION.time", 8, ST, time),
	F_RSV32("POINTER_MOTION.reserved", 12),
	F_FIXED("POINTER_MOTION.x", 16, ST, x),
	F_FIXED("POINTER_MOTION.y", 20, ST, y),
};
#undef ST

#define ST struct tessera_wire_button
static const struct field pointer_button_fields[] = {
	F_U32("POINTER_BUTTON.serial", 8, ST, serial),
	F_U32("POINTER_BUTTON.time", 12, ST, time),
	F_U32R("POINTER_BUTTON.button", 16, ST, code, VALUE, 0, TESSERA_WIRE_MAX_KEY),
	F_U32R("POINTER_BUTTON.state", 20, ST, state, VALUE, 0, 1),
};
static const struct field keyboard_key_fields[] = {
	F_U32("KEYBOARD_KEY.serial", 8, ST, serial),
	F_U32("KEYBOARD_KEY.time", 12, ST, time),
	F_U32R("KEYBOARD_KEY.key", 16, ST, code, VALUE, 0, TESSERA_WIRE_MAX_KEY),
	F_U32R("KEYBOARD_KEY.state", 20, ST, state, VALUE, 0, 1),
};
#undef ST

#define ST struct tessera_wire_pointer_axis
static const struct field pointer_axis_fields[] = {
	F_U32("POINTER_AXIS.time", 8, ST, time),
	F_U32R("POINTER_AXIS.axis", 12, ST, axis, VALUE, 0, 1),
	F_FIXED("POINTER_AXIS.value", 16, ST, value),
	F_COORD("POINTER_AXIS.value120", 20, ST, value120),
	F_U32R("POINTER_AXIS.source", 24, ST, source, VALUE, 0, 3),
	F_MASK("POINTER_AXIS.flags", 28, ST, flags, TESSERA_WIRE_AXIS_STOP |
		TESSERA_WIRE_AXIS_SOURCE | TESSERA_WIRE_AXIS_VALUE120),
};
#undef ST

#define ST struct tessera_wire_keyboard_enter
static const struct field keyboard_enter_fields[] = {
	F_ID("KEYBOARD_ENTER.surface", 8, ST, surface),
	F_U32("KEYBOARD_ENTER.serial", 12, ST, serial),
	F_U32R("KEYBOARD_ENTER.key_count", 16, ST, key_count, COUNT, 0, TESSERA_WIRE_MAX_KEYS),
	F_RSV32("KEYBOARD_ENTER.reserved", 20),
};
#undef ST

#define ST struct tessera_wire_keyboard_modifiers
static const struct field modifiers_fields[] = {
	F_U32("KEYBOARD_MODIFIERS.serial", 8, ST, serial),
	F_U32("KEYBOARD_MODIFIERS.depressed", 12, ST, depressed),
	F_U32("KEYBOARD_MODIFIERS.latched", 16, ST, latched),
	F_U32("KEYBOARD_MODIFIERS.locked", 20, ST, locked),
	F_U32("KEYBOARD_MODIFIERS.group", 24, ST, group),
	F_RSV32("KEYBOARD_MODIFIERS.reserved", 28),
};
#undef ST

#define ST struct tessera_wire_repeat_info
static const struct field repeat_info_fields[] = {
	F_I32R("KEYBOARD_REPEAT_INFO.rate", 8, ST, rate, VALUE, 0, TESSERA_WIRE_MAX_REPEAT_RATE),
	F_I32R("KEYBOARD_REPEAT_INFO.delay", 12, ST, delay, VALUE, 0, TESSERA_WIRE_MAX_REPEAT_DELAY),
};
#undef ST

/* window sharing (§17) */
#define ST struct tessera_wire_share_buffer
static const struct field share_buffer_fields[] = {
	F_ID("SHARE_BUFFER.share", 8, ST, share),
	F_ID("SHARE_BUFFER.buffer", 12, ST, buffer),
};
#undef ST

#define ST struct tessera_wire_share_offer
static const struct field share_offer_fields[] = {
	F_ID("SHARE_OFFER.share", 8, ST, share),
	F_U32R("SHARE_OFFER.width", 12, ST, width, DIMENSION, 1, TESSERA_WIRE_MAX_DIMENSION),
	F_U32R("SHARE_OFFER.height", 16, ST, height, DIMENSION, 1, TESSERA_WIRE_MAX_DIMENSION),
	F_U32R("SHARE_OFFER.length", 20, ST, length, COUNT, 0, TESSERA_WIRE_MAX_TITLE_LENGTH),
};
#undef ST

#define ST struct tessera_wire_share_end
static const struct field share_end_fields[] = {
	F_ID("SHARE_END.share", 8, ST, share),
	F_RSV32("SHARE_END.reserved", 12),
};
#undef ST

#define ST struct tessera_wire_share_frame
static const struct field share_frame_fields[] = {
	F_ID("SHARE_FRAME.share", 8, ST, share),
	F_ID("SHARE_FRAME.buffer", 12, ST, buffer),
	F_I32R("SHARE_FRAME.x", 16, ST, x, COORDINATE, 0, TESSERA_WIRE_MAX_DIMENSION),
	F_I32R("SHARE_FRAME.y", 20, ST, y, COORDINATE, 0, TESSERA_WIRE_MAX_DIMENSION),
	F_DIM0("SHARE_FRAME.width", 24, ST, width),
	F_DIM0("SHARE_FRAME.height", 28, ST, height),
};
#undef ST

#define ST struct tessera_wire_clipboard_chunk
static const struct field clipboard_data_fields[] = {
	F_ID("CLIPBOARD_DATA.transfer", 8, ST, transfer),
	F_U32R("CLIPBOARD_DATA.type", 12, ST, type, VALUE, 1, TESSERA_WIRE_CLIPBOARD_TYPE_MAX),
	F_MASK("CLIPBOARD_DATA.flags", 16, ST, flags, TESSERA_WIRE_CLIPBOARD_LAST),
	F_U32R("CLIPBOARD_DATA.length", 20, ST, length, COUNT, 0,
		TESSERA_WIRE_MAX_CLIPBOARD_CHUNK),
};
static const struct field clipboard_paste_fields[] = {
	F_ID("CLIPBOARD_PASTE.transfer", 8, ST, transfer),
	F_U32R("CLIPBOARD_PASTE.type", 12, ST, type, VALUE, 1, TESSERA_WIRE_CLIPBOARD_TYPE_MAX),
	F_MASK("CLIPBOARD_PASTE.flags", 16, ST, flags, TESSERA_WIRE_CLIPBOARD_LAST),
	F_U32R("CLIPBOARD_PASTE.length", 20, ST, length, COUNT, 0,
		TESSERA_WIRE_MAX_CLIPBOARD_CHUNK),
};
#undef ST

#define ST struct tessera_wire_clipboard_end
static const struct field clipboard_fail_fields[] = {
	F_ID("CLIPBOARD_FAIL.transfer", 8, ST, transfer),
	F_U32R("CLIPBOARD_FAIL.reason", 12, ST, reason, VALUE, 1,
		TESSERA_WIRE_CLIPBOARD_REASON_MAX),
};
static const struct field clipboard_cancel_fields[] = {
	F_ID("CLIPBOARD_CANCEL.transfer", 8, ST, transfer),
	F_U32R("CLIPBOARD_CANCEL.reason", 12, ST, reason, VALUE, 1,
		TESSERA_WIRE_CLIPBOARD_REASON_MAX),
};
#undef ST

#define ST struct tessera_wire_clipboard_request
static const struct field clipboard_request_fields[] = {
	F_ID("CLIPBOARD_REQUEST.transfer", 8, ST, transfer),
	F_MASK("CLIPBOARD_REQUEST.types", 12, ST, types, TESSERA_WIRE_CLIPBOARD_TYPES_ALL),
	F_U32R("CLIPBOARD_REQUEST.limit", 16, ST, limit, VALUE, 1,
		TESSERA_WIRE_MAX_CLIPBOARD_SIZE),
	F_RSV32("CLIPBOARD_REQUEST.reserved", 20),
};
#undef ST

/* --- checks across fields --- */

static enum tessera_wire_error_code check_hello(const struct tessera_wire_msg *msg,
		struct tessera_wire_error *err) {
	if (msg->hello.min_version > msg->hello.max_version) {
		return wire_fail(err, TESSERA_WIRE_ERROR_VALUE, msg->type,
			"HELLO.min_version", "greater than max_version");
	}
	return TESSERA_WIRE_ERROR_NONE;
}

static enum tessera_wire_error_code check_event_ring(const struct tessera_wire_msg *msg,
		struct tessera_wire_error *err) {
	if (!tessera_wire_ring_size_valid(msg->area.size)) {
		return wire_fail(err, TESSERA_WIRE_ERROR_VALUE, msg->type, "EVENT_RING.size",
			"not 64 + a power of two in [16 KiB, 1 MiB]");
	}
	if (msg->area.offset % TESSERA_WIRE_RING_OFFSET_ALIGNMENT != 0) {
		return wire_fail(err, TESSERA_WIRE_ERROR_ALIGNMENT, msg->type,
			"EVENT_RING.offset", "not a multiple of 64");
	}
	return TESSERA_WIRE_ERROR_NONE;
}

static enum tessera_wire_error_code check_commit(const struct tessera_wire_msg *msg,
		struct tessera_wire_error *err) {
	if ((msg->commit.flags & TESSERA_WIRE_COMMIT_DAMAGE_ALL) &&
			msg->commit.damage_count != 0) {
		return wire_fail(err, TESSERA_WIRE_ERROR_COUNT, msg->type,
			"COMMIT.damage_count", "not 0 with DAMAGE_ALL");
	}
	return TESSERA_WIRE_ERROR_NONE;
}

static enum tessera_wire_error_code check_region(const struct tessera_wire_msg *msg,
		struct tessera_wire_error *err) {
	if ((msg->region.flags & TESSERA_WIRE_REGION_INFINITE) &&
			msg->region.rect_count != 0) {
		return wire_fail(err, TESSERA_WIRE_ERROR_COUNT, msg->type,
			msg->type == TESSERA_WIRE_SET_INPUT_REGION ?
				"SET_INPUT_REGION.rect_count" : "SET_OPAQUE_REGION.rect_count",
			"not 0 with INFINITE");
	}
	return TESSERA_WIRE_ERROR_NONE;
}

static enum tessera_wire_error_code check_buffer_fields(
		const struct tessera_wire_buffer_create *b, uint16_t type,
		struct tessera_wire_error *err) {
	uint32_t bpp = tessera_wire_format_bpp(b->format);
	if (bpp == 0) {
		return wire_fail(err, TESSERA_WIRE_ERROR_FORMAT, type,
			"BUFFER_CREATE.format", "unsupported pixel format");
	}
	if (b->width < 1 || b->width > TESSERA_WIRE_MAX_DIMENSION) {
		return wire_fail(err, TESSERA_WIRE_ERROR_DIMENSION, type,
			"BUFFER_CREATE.width", "out of range");
	}
	if (b->height < 1 || b->height > TESSERA_WIRE_MAX_DIMENSION) {
		return wire_fail(err, TESSERA_WIRE_ERROR_DIMENSION, type,
			"BUFFER_CREATE.height", "out of range");
	}
	if (b->stride > TESSERA_WIRE_MAX_STRIDE) {
		return wire_fail(err, TESSERA_WIRE_ERROR_STRIDE, type,
			"BUFFER_CREATE.stride", "out of range");
	}
	if ((uint64_t)b->stride < (uint64_t)b->width * bpp) {
		return wire_fail(err, TESSERA_WIRE_ERROR_STRIDE, type,
			"BUFFER_CREATE.stride", "smaller than width * bytes per pixel");
	}
	if (b->stride % bpp != 0) {
		return wire_fail(err, TESSERA_WIRE_ERROR_STRIDE, type,
			"BUFFER_CREATE.stride", "not a multiple of the bytes per pixel");
	}
	if (b->offset % bpp != 0) {
		return wire_fail(err, TESSERA_WIRE_ERROR_ALIGNMENT, type,
			"BUFFER_CREATE.offset", "not a multiple of the bytes per pixel");
	}
	return TESSERA_WIRE_ERROR_NONE;
}

static enum tessera_wire_error_code check_buffer_create(const struct tessera_wire_msg *msg,
		struct tessera_wire_error *err) {
	return check_buffer_fields(&msg->buffer_create, msg->type, err);
}

static enum tessera_wire_error_code check_set_parent(const struct tessera_wire_msg *msg,
		struct tessera_wire_error *err) {
	if (msg->set_parent.parent == msg->set_parent.surface) {
		return wire_fail(err, TESSERA_WIRE_ERROR_VALUE, msg->type,
			"TOPLEVEL_SET_PARENT.parent", "the surface itself");
	}
	return TESSERA_WIRE_ERROR_NONE;
}

static enum tessera_wire_error_code check_size_limits(const struct tessera_wire_msg *msg,
		struct tessera_wire_error *err) {
	const struct tessera_wire_size_limits *l = &msg->size_limits;
	if (l->max_width != 0 && l->max_width < l->min_width) {
		return wire_fail(err, TESSERA_WIRE_ERROR_VALUE, msg->type,
			"TOPLEVEL_SET_SIZE_LIMITS.max_width", "smaller than min_width");
	}
	if (l->max_height != 0 && l->max_height < l->min_height) {
		return wire_fail(err, TESSERA_WIRE_ERROR_VALUE, msg->type,
			"TOPLEVEL_SET_SIZE_LIMITS.max_height", "smaller than min_height");
	}
	return TESSERA_WIRE_ERROR_NONE;
}

static enum tessera_wire_error_code check_toplevel_request(const struct tessera_wire_msg *msg,
		struct tessera_wire_error *err) {
	if (msg->toplevel_request.output != 0 &&
			msg->toplevel_request.action != TESSERA_WIRE_TOPLEVEL_SET_FULLSCREEN) {
		return wire_fail(err, TESSERA_WIRE_ERROR_VALUE, msg->type,
			"TOPLEVEL_REQUEST.output", "not 0 for an action other than SET_FULLSCREEN");
	}
	return TESSERA_WIRE_ERROR_NONE;
}

static enum tessera_wire_error_code check_resize(const struct tessera_wire_msg *msg,
		struct tessera_wire_error *err) {
	/* xdg_toplevel.resize_edge: 0, 1, 2, 4, 5, 6, 8, 9, 10 */
	uint32_t edges = msg->resize.edges;
	if (edges == 3 || edges == 7 || edges > 10) {
		return wire_fail(err, TESSERA_WIRE_ERROR_VALUE, msg->type,
			"TOPLEVEL_RESIZE.edges", "not a resize edge");
	}
	return TESSERA_WIRE_ERROR_NONE;
}

static enum tessera_wire_error_code check_positioner(const struct tessera_wire_positioner *p,
		uint16_t type, struct tessera_wire_error *err) {
	bool create = type == TESSERA_WIRE_POPUP_CREATE;
	if (!(p->flags & TESSERA_WIRE_POSITIONER_PARENT_SIZE) &&
			(p->parent_width != 0 || p->parent_height != 0)) {
		return wire_fail(err, TESSERA_WIRE_ERROR_VALUE, type,
			create ? "POPUP_CREATE.positioner.parent_width" :
				"POPUP_REPOSITION.positioner.parent_width",
			"parent size given without PARENT_SIZE");
	}
	if (!(p->flags & TESSERA_WIRE_POSITIONER_PARENT_CONFIGURE) &&
			p->parent_configure != 0) {
		return wire_fail(err, TESSERA_WIRE_ERROR_VALUE, type,
			create ? "POPUP_CREATE.positioner.parent_configure" :
				"POPUP_REPOSITION.positioner.parent_configure",
			"serial given without PARENT_CONFIGURE");
	}
	return TESSERA_WIRE_ERROR_NONE;
}

static enum tessera_wire_error_code check_popup_create(const struct tessera_wire_msg *msg,
		struct tessera_wire_error *err) {
	if (msg->popup_create.parent == msg->popup_create.surface) {
		return wire_fail(err, TESSERA_WIRE_ERROR_VALUE, msg->type,
			"POPUP_CREATE.parent", "the surface itself");
	}
	return check_positioner(&msg->popup_create.positioner, msg->type, err);
}

static enum tessera_wire_error_code check_popup_reposition(const struct tessera_wire_msg *msg,
		struct tessera_wire_error *err) {
	return check_positioner(&msg->popup_reposition.positioner, msg->type, err);
}

static enum tessera_wire_error_code check_subsurface_create(const struct tessera_wire_msg *msg,
		struct tessera_wire_error *err) {
	if (msg->subsurface_create.parent == msg->subsurface_create.surface) {
		return wire_fail(err, TESSERA_WIRE_ERROR_VALUE, msg->type,
			"SUBSURFACE_CREATE.parent", "the surface itself");
	}
	return TESSERA_WIRE_ERROR_NONE;
}

static enum tessera_wire_error_code check_subsurface_place(const struct tessera_wire_msg *msg,
		struct tessera_wire_error *err) {
	if (msg->subsurface_place.sibling == msg->subsurface_place.surface) {
		return wire_fail(err, TESSERA_WIRE_ERROR_VALUE, msg->type,
			"SUBSURFACE_PLACE.sibling", "the surface itself");
	}
	return TESSERA_WIRE_ERROR_NONE;
}

static enum tessera_wire_error_code check_presented(const struct tessera_wire_msg *msg,
		struct tessera_wire_error *err) {
	const struct tessera_wire_presented *p = &msg->presented;
	if ((p->flags & TESSERA_WIRE_PRESENTED_DISCARDED) &&
			(p->flags != TESSERA_WIRE_PRESENTED_DISCARDED || p->tv_sec != 0 ||
			p->tv_nsec != 0 || p->refresh_ns != 0 || p->seq != 0 ||
			p->output != 0)) {
		return wire_fail(err, TESSERA_WIRE_ERROR_VALUE, msg->type,
			"PRESENTED.flags", "DISCARDED with presentation data");
	}
	return TESSERA_WIRE_ERROR_NONE;
}

static enum tessera_wire_error_code check_pointer_axis(const struct tessera_wire_msg *msg,
		struct tessera_wire_error *err) {
	const struct tessera_wire_pointer_axis *a = &msg->pointer_axis;
	if (!(a->flags & TESSERA_WIRE_AXIS_SOURCE) && a->source != 0) {
		return wire_fail(err, TESSERA_WIRE_ERROR_VALUE, msg->type,
			"POINTER_AXIS.source", "not 0 without the SOURCE flag");
	}
	if (!(a->flags & TESSERA_WIRE_AXIS_VALUE120) && a->value120 != 0) {
		return wire_fail(err, TESSERA_WIRE_ERROR_VALUE, msg->type,
			"POINTER_AXIS.value120", "not 0 without the VALUE120 flag");
	}
	return TESSERA_WIRE_ERROR_NONE;
}

static enum tessera_wire_error_code check_share_frame(const struct tessera_wire_msg *msg,
		struct tessera_wire_error *err) {
	const struct tessera_wire_share_frame *f = &msg->share_frame;
	if ((int64_t)f->x + f->width > TESSERA_WIRE_MAX_DIMENSION) {
		return wire_fail(err, TESSERA_WIRE_ERROR_RANGE, msg->type,
			"SHARE_FRAME.width", "x + width beyond the largest buffer");
	}
	if ((int64_t)f->y + f->height > TESSERA_WIRE_MAX_DIMENSION) {
		return wire_fail(err, TESSERA_WIRE_ERROR_RANGE, msg->type,
			"SHARE_FRAME.height", "y + height beyond the largest buffer");
	}
	return TESSERA_WIRE_ERROR_NONE;
}

static enum tessera_wire_error_code check_clipboard_request(
		const struct tessera_wire_msg *msg, struct tessera_wire_error *err) {
	if (msg->clipboard_request.types == 0) {
		return wire_fail(err, TESSERA_WIRE_ERROR_VALUE, msg->type,
			"CLIPBOARD_REQUEST.types", "no type");
	}
	return TESSERA_WIRE_ERROR_NONE;
}

/* --- message table, sorted by type --- */

#define REQ TESSERA_WIRE_REQUESTS
#define EVT TESSERA_WIRE_EVENTS
#define FIXED(t, d, sz, st, f, chk) { \
	.type = TESSERA_WIRE_##t, .dir = (d), .var = VAR_NONE, .fixed = (sz), \
	.struct_size = sizeof(st), .name = #t, .fields = (f), \
	.n_fields = ARRAY_LEN(f), .check = (chk), \
}
#define VARIABLE(t, d, sz, st, f, chk, v, cnt, arr, vname) { \
	.type = TESSERA_WIRE_##t, .dir = (d), .var = (v), .fixed = (sz), \
	.struct_size = sizeof(st), .name = #t, .fields = (f), \
	.n_fields = ARRAY_LEN(f), .check = (chk), \
	.count_mem = MEMBER(st, cnt, 4), .array_mem = offsetof(st, arr), \
	.max_count = sizeof(((st *)0)->arr) / sizeof(((st *)0)->arr[0]) - \
		((v) == VAR_STRING), /* room for the NUL */ \
	.var_name = (vname), \
}
#define EMPTY(t, d) { \
	.type = TESSERA_WIRE_##t, .dir = (d), .var = VAR_NONE, .fixed = 8, \
	.name = #t, \
}

static const struct msg_desc messages[] = {
	FIXED(HELLO, REQ, 24, struct tessera_wire_hello, hello_fields, check_hello),
	FIXED(EVENT_RING, REQ, 24, struct tessera_wire_area, event_ring_fields,
		check_event_ring),
	FIXED(SET_KEYMAP_AREA, REQ, 24, struct tessera_wire_area, keymap_area_fields, NULL),
	EMPTY(WAIT, REQ),
	FIXED(SURFACE_CREATE, REQ, 16, struct tessera_wire_surface_ref,
		surface_create_fields, NULL),
	FIXED(SURFACE_DESTROY, REQ, 16, struct tessera_wire_surface_ref,
		surface_destroy_fields, NULL),
	VARIABLE(COMMIT, REQ, 48, struct tessera_wire_commit, commit_fields, check_commit,
		VAR_DAMAGE, damage_count, damage, "COMMIT.damage"),
	VARIABLE(SET_INPUT_REGION, REQ, 24, struct tessera_wire_region, input_region_fields,
		check_region, VAR_REGION, rect_count, rects, "SET_INPUT_REGION.rects"),
	VARIABLE(SET_OPAQUE_REGION, REQ, 24, struct tessera_wire_region, opaque_region_fields,
		check_region, VAR_REGION, rect_count, rects, "SET_OPAQUE_REGION.rects"),
	FIXED(BUFFER_CREATE, REQ, 40, struct tessera_wire_buffer_create,
		buffer_create_fields, check_buffer_create),
	FIXED(BUFFER_DESTROY, REQ, 16, struct tessera_wire_buffer_destroy,
		buffer_destroy_fields, NULL),
	FIXED(TOPLEVEL_CREATE, REQ, 16, struct tessera_wire_surface_ref,
		toplevel_create_fields, NULL),
	VARIABLE(SET_TITLE, REQ, 16, struct tessera_wire_string, title_fields, NULL,
		VAR_STRING, length, text, "SET_TITLE.text"),
	VARIABLE(SET_APP_ID, REQ, 16, struct tessera_wire_string, app_id_fields, NULL,
		VAR_STRING, length, text, "SET_APP_ID.text"),
	FIXED(TOPLEVEL_SET_PARENT, REQ, 16, struct tessera_wire_set_parent,
		set_parent_fields, check_set_parent),
	FIXED(TOPLEVEL_SET_SIZE_LIMITS, REQ, 32, struct tessera_wire_size_limits,
		size_limits_fields, check_size_limits),
	FIXED(TOPLEVEL_REQUEST, REQ, 24, struct tessera_wire_toplevel_request,
		toplevel_request_fields, check_toplevel_request),
	FIXED(TOPLEVEL_MOVE, REQ, 16, struct tessera_wire_surface_serial, move_fields, NULL),
	FIXED(TOPLEVEL_RESIZE, REQ, 24, struct tessera_wire_resize, resize_fields,
		check_resize),
	FIXED(TOPLEVEL_SHOW_WINDOW_MENU, REQ, 24, struct tessera_wire_window_menu,
		window_menu_fields, NULL),
	FIXED(TOPLEVEL_SET_DECORATION, REQ, 16, struct tessera_wire_decoration,
		decoration_fields, NULL),
	FIXED(ACK_CONFIGURE, REQ, 16, struct tessera_wire_surface_serial,
		ack_configure_fields, NULL),
	FIXED(SET_WINDOW_GEOMETRY, REQ, 32, struct tessera_wire_window_geometry,
		window_geometry_fields, NULL),
	FIXED(POPUP_CREATE, REQ, 80, struct tessera_wire_popup_create, popup_create_fields,
		check_popup_create),
	FIXED(POPUP_GRAB, REQ, 16, struct tessera_wire_surface_serial, popup_grab_fields, NULL),
	FIXED(POPUP_REPOSITION, REQ, 80, struct tessera_wire_popup_reposition,
		popup_reposition_fields, check_popup_reposition),
	FIXED(SUBSURFACE_CREATE, REQ, 16, struct tessera_wire_subsurface_create,
		subsurface_create_fields, check_subsurface_create),
	FIXED(SUBSURFACE_SET_POSITION, REQ, 24, struct tessera_wire_subsurface_position,
		subsurface_position_fields, NULL),
	FIXED(SUBSURFACE_PLACE, REQ, 24, struct tessera_wire_subsurface_place,
		subsurface_place_fields, check_subsurface_place),
	FIXED(SUBSURFACE_SET_SYNC, REQ, 16, struct tessera_wire_subsurface_sync,
		subsurface_sync_fields, NULL),
	FIXED(SET_CURSOR, REQ, 24, struct tessera_wire_set_cursor, set_cursor_fields, NULL),
	VARIABLE(CLIPBOARD_DATA, REQ, 24, struct tessera_wire_clipboard_chunk,
		clipboard_data_fields, NULL, VAR_BYTES, length, data, "CLIPBOARD_DATA.data"),
	FIXED(CLIPBOARD_FAIL, REQ, 16, struct tessera_wire_clipboard_end,
		clipboard_fail_fields, NULL),
	FIXED(SHARE_BUFFER, REQ, 16, struct tessera_wire_share_buffer, share_buffer_fields,
		NULL),

	FIXED(HELLO_REPLY, EVT, 24, struct tessera_wire_hello_reply, hello_reply_fields, NULL),
	VARIABLE(ERROR, EVT, 40, struct tessera_wire_error_event, error_fields, NULL,
		VAR_STRING, message_length, message, "ERROR.message"),
	FIXED(KEYMAP, EVT, 24, struct tessera_wire_keymap, keymap_fields, NULL),
	FIXED(OUTPUT, EVT, 48, struct tessera_wire_output, output_fields, NULL),
	FIXED(OUTPUT_REMOVE, EVT, 16, struct tessera_wire_output_remove,
		output_remove_fields, NULL),
	FIXED(SURFACE_ENTER, EVT, 16, struct tessera_wire_surface_output,
		surface_enter_fields, NULL),
	FIXED(SURFACE_LEAVE, EVT, 16, struct tessera_wire_surface_output,
		surface_leave_fields, NULL),
	FIXED(FRAME_DONE, EVT, 24, struct tessera_wire_frame_done, frame_done_fields, NULL),
	FIXED(PRESENTED, EVT, 48, struct tessera_wire_presented, presented_fields,
		check_presented),
	FIXED(BUFFER_RELEASE, EVT, 24, struct tessera_wire_buffer_release,
		buffer_release_fields, NULL),
	FIXED(CONFIGURE, EVT, 40, struct tessera_wire_configure, configure_fields, NULL),
	FIXED(CLOSE, EVT, 16, struct tessera_wire_surface_ref, close_fields, NULL),
	FIXED(POPUP_CONFIGURE, EVT, 32, struct tessera_wire_popup_configure,
		popup_configure_fields, NULL),
	FIXED(POPUP_REPOSITIONED, EVT, 16, struct tessera_wire_popup_repositioned,
		popup_repositioned_fields, NULL),
	FIXED(POPUP_DONE, EVT, 16, struct tessera_wire_surface_ref, popup_done_fields, NULL),
	FIXED(POINTER_ENTER, EVT, 24, struct tessera_wire_pointer_enter,
		pointer_enter_fields, NULL),
	FIXED(POINTER_LEAVE, EVT, 16, struct tessera_wire_surface_serial,
		pointer_leave_fields, NULL),
	FIXED(POINTER_MOTION, EVT, 24, struct tessera_wire_pointer_motion,
		pointer_motion_fields, NULL),
	FIXED(POINTER_BUTTON, EVT, 24, struct tessera_wire_button, pointer_button_fields, NULL),
	FIXED(POINTER_AXIS, EVT, 32, struct tessera_wire_pointer_axis, pointer_axis_fields,
		check_pointer_axis),
	EMPTY(POINTER_FRAME, EVT),
	VARIABLE(KEYBOARD_ENTER, EVT, 24, struct tessera_wire_keyboard_enter,
		keyboard_enter_fields, NULL, VAR_KEYS, key_count, keys, "KEYBOARD_ENTER.keys"),
	FIXED(KEYBOARD_LEAVE, EVT, 16, struct tessera_wire_surface_serial,
		keyboard_leave_fields, NULL),
	FIXED(KEYBOARD_KEY, EVT, 24, struct tessera_wire_button, keyboard_key_fields, NULL),
	FIXED(KEYBOARD_MODIFIERS, EVT, 32, struct tessera_wire_keyboard_modifiers,
		modifiers_fields, NULL),
	FIXED(KEYBOARD_REPEAT_INFO, EVT, 16, struct tessera_wire_repeat_info,
		repeat_info_fields, NULL),
	FIXED(CLIPBOARD_REQUEST, EVT, 24, struct tessera_wire_clipboard_request,
		clipboard_request_fields, check_clipboard_request),
	VARIABLE(CLIPBOARD_PASTE, EVT, 24, struct tessera_wire_clipboard_chunk,
		clipboard_paste_fields, NULL, VAR_BYTES, length, data, "CLIPBOARD_PASTE.data"),
	FIXED(CLIPBOARD_CANCEL, EVT, 16, struct tessera_wire_clipboard_end,
		clipboard_cancel_fields, NULL),
	VARIABLE(SHARE_OFFER, EVT, 24, struct tessera_wire_share_offer, share_offer_fields,
		NULL, VAR_STRING, length, description, "SHARE_OFFER.description"),
	FIXED(SHARE_END, EVT, 16, struct tessera_wire_share_end, share_end_fields, NULL),
	FIXED(SHARE_FRAME, EVT, 32, struct tessera_wire_share_frame, share_frame_fields,
		check_share_frame),
};

static const struct msg_desc *find_desc(uint16_t type) {
	size_t lo = 0, hi = ARRAY_LEN(messages);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (messages[mid].type == type) {
			return &messages[mid];
		} else if (messages[mid].type < type) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return NULL;
}

/* Element size of a variable part. */
static size_t var_elem_size(uint8_t var) {
	switch (var) {
	case VAR_DAMAGE:
	case VAR_REGION:
		return 16;
	case VAR_STRING:
	case VAR_BYTES:
		return 1;
	case VAR_KEYS:
		return 4;
	}
	return 0;
}

/* --- names --- */

const char *tessera_wire_type_name(uint16_t type) {
	if (type == TESSERA_WIRE_PAD) {
		return "PAD";
	}
	const struct msg_desc *d = find_desc(type);
	return d != NULL ? d->name : NULL;
}

bool tessera_wire_type_direction(uint16_t type, enum tessera_wire_direction *dir) {
	const struct msg_desc *d = find_desc(type);
	if (d == NULL) {
		return false;
	}
	*dir = d->dir;
	return true;
}

const char *tessera_wire_error_code_name(uint32_t code) {
	switch ((enum tessera_wire_error_code)code) {
	case TESSERA_WIRE_ERROR_NONE: return "NONE";
	case TESSERA_WIRE_ERROR_TRUNCATED: return "TRUNCATED";
	case TESSERA_WIRE_ERROR_SHORT: return "SHORT";
	case TESSERA_WIRE_ERROR_SIZE: return "SIZE";
	case TESSERA_WIRE_ERROR_ALIGNMENT: return "ALIGNMENT";
	case TESSERA_WIRE_ERROR_UNKNOWN_TYPE: return "UNKNOWN_TYPE";
	case TESSERA_WIRE_ERROR_FLAGS: return "FLAGS";
	case TESSERA_WIRE_ERROR_RESERVED: return "RESERVED";
	case TESSERA_WIRE_ERROR_COUNT: return "COUNT";
	case TESSERA_WIRE_ERROR_STRING: return "STRING";
	case TESSERA_WIRE_ERROR_ID: return "ID";
	case TESSERA_WIRE_ERROR_VALUE: return "VALUE";
	case TESSERA_WIRE_ERROR_DIMENSION: return "DIMENSION";
	case TESSERA_WIRE_ERROR_STRIDE: return "STRIDE";
	case TESSERA_WIRE_ERROR_FORMAT: return "FORMAT";
	case TESSERA_WIRE_ERROR_RANGE: return "RANGE";
	case TESSERA_WIRE_ERROR_COORDINATE: return "COORDINATE";
	case TESSERA_WIRE_ERROR_ORDER: return "ORDER";
	case TESSERA_WIRE_ERROR_VERSION: return "VERSION";
	case TESSERA_WIRE_ERROR_STATE: return "STATE";
	case TESSERA_WIRE_ERROR_NO_OBJECT: return "NO_OBJECT";
	case TESSERA_WIRE_ERROR_ID_REUSE: return "ID_REUSE";
	case TESSERA_WIRE_ERROR_ROLE: return "ROLE";
	case TESSERA_WIRE_ERROR_RESOURCE: return "RESOURCE";
	case TESSERA_WIRE_ERROR_LIMIT: return "LIMIT";
	case TESSERA_WIRE_ERROR_RING: return "RING";
	case TESSERA_WIRE_ERROR_HOST: return "HOST";
	case TESSERA_WIRE_ERROR_OVERFLOW: return "OVERFLOW";
	case TESSERA_WIRE_ERROR_BUFFER_FAILED: return "BUFFER_FAILED";
	case TESSERA_WIRE_ERROR_NO_SPACE: return "NO_SPACE";
	}
	return "UNKNOWN";
}

bool tessera_wire_error_is_fatal(uint32_t code) {
	return code != TESSERA_WIRE_ERROR_NONE && code < TESSERA_WIRE_ERROR_FIRST_NOTICE;
}

uint32_t tessera_wire_format_bpp(uint32_t format) {
	switch (format) {
	case TESSERA_WIRE_FORMAT_XRGB8888:
	case TESSERA_WIRE_FORMAT_ARGB8888:
	case TESSERA_WIRE_FORMAT_XBGR8888:
	case TESSERA_WIRE_FORMAT_ABGR8888:
		return 4;
	}
	return 0;
}

/* --- decoding --- */

static enum tessera_wire_error_code decode_fields(const struct msg_desc *d,
		const uint8_t *p, uint8_t *base, struct tessera_wire_error *err) {
	for (size_t i = 0; i < d->n_fields; i++) {
		const struct field *f = &d->fields[i];
		uint64_t raw;
		int64_t value;
		switch (f->kind) {
		case K_U16:
			raw = wire_get16(p + f->wire);
			value = (int64_t)raw;
			break;
		case K_U32:
			raw = wire_get32(p + f->wire);
			value = (int64_t)raw;
			break;
		case K_I32:
			raw = wire_get32(p + f->wire);
			value = (int32_t)raw;
			break;
		default: /* K_U64 */
			raw = wire_get64(p + f->wire);
			value = 0; /* never range-checked */
			break;
		}

		bool ok = true;
		const char *reason = NULL;
		switch (f->check) {
		case CHK_ANY:
			break;
		case CHK_RESERVED:
			ok = raw == 0;
			reason = "reserved, must be 0";
			break;
		case CHK_NONZERO:
			ok = raw != 0;
			reason = "must not be 0";
			break;
		case CHK_RANGE:
			ok = value >= f->min && value <= f->max;
			reason = "out of range";
			break;
		case CHK_MASK:
			ok = (raw & ~(uint64_t)f->max) == 0;
			reason = "unknown bits set";
			break;
		}
		if (!ok) {
			return wire_fail(err, f->err, d->type, f->name, reason);
		}
		if (f->check == CHK_RESERVED) {
			continue;
		}

		uint8_t *dst = base + f->mem;
		switch (f->kind) {
		case K_U16: {
			uint16_t v = (uint16_t)raw;
			memcpy(dst, &v, sizeof(v));
			break;
		}
		case K_U32: {
			uint32_t v = (uint32_t)raw;
			memcpy(dst, &v, sizeof(v));
			break;
		}
		case K_I32: {
			int32_t v = (int32_t)value;
			memcpy(dst, &v, sizeof(v));
			break;
		}
		default:
			memcpy(dst, &raw, sizeof(raw));
			break;
		}
	}
	return TESSERA_WIRE_ERROR_NONE;
}

static enum tessera_wire_error_code decode_rect(const struct msg_desc *d,
		const uint8_t *p, struct tessera_wire_rect *rect,
		struct tessera_wire_error *err) {
	int64_t x = (int32_t)wire_get32(p);
	int64_t y = (int32_t)wire_get32(p + 4);
	int64_t w = (int32_t)wire_get32(p + 8);
	int64_t h = (int32_t)wire_get32(p + 12);
	if (d->var == VAR_DAMAGE) {
		/* buffer coordinates inside [0, MAX_DIMENSION] */
		const int64_t max = TESSERA_WIRE_MAX_DIMENSION;
		if (w < 1 || w > max || h < 1 || h > max) {
			return wire_fail(err, TESSERA_WIRE_ERROR_DIMENSION, d->type,
				d->var_name, "rect width or height out of range");
		}
		if (x < 0 || y < 0 || x + w > max || y + h > max) {
			return wire_fail(err, TESSERA_WIRE_ERROR_COORDINATE, d->type,
				d->var_name, "rect outside [0, MAX_DIMENSION]");
		}
	} else {
		const int64_t max = TESSERA_WIRE_MAX_COORD;
		if (w < 1 || w > max || h < 1 || h > max) {
			return wire_fail(err, TESSERA_WIRE_ERROR_DIMENSION, d->type,
				d->var_name, "rect width or height out of range");
		}
		if (x < -max || x > max || y < -max || y > max) {
			return wire_fail(err, TESSERA_WIRE_ERROR_COORDINATE, d->type,
				d->var_name, "rect position out of range");
		}
	}
	rect->x = (int32_t)x;
	rect->y = (int32_t)y;
	rect->width = (int32_t)w;
	rect->height = (int32_t)h;
	return TESSERA_WIRE_ERROR_NONE;
}

static enum tessera_wire_error_code decode_var(const struct msg_desc *d,
		const uint8_t *p, uint32_t size, uint8_t *base,
		struct tessera_wire_error *err) {
	uint32_t count;
	memcpy(&count, base + d->count_mem, sizeof(count));
	/* The count field's range check (COUNT) ran already; this guards the
	 * struct array whatever the table says. */
	if (count > d->max_count) {
		return wire_fail(err, TESSERA_WIRE_ERROR_COUNT, d->type, d->var_name,
			"count beyond its limit");
	}
	uint64_t body = (uint64_t)count * var_elem_size(d->var);
	uint64_t expected = wire_align8(d->fixed + body);
	if (size != expected) {
		return wire_fail(err, TESSERA_WIRE_ERROR_SIZE, d->type, d->var_name,
			"message size does not match the count");
	}

	const uint8_t *src = p + d->fixed;
	uint8_t *array = base + d->array_mem;
	switch (d->var) {
	case VAR_DAMAGE:
	case VAR_REGION:
		for (uint32_t i = 0; i < count; i++) {
			struct tessera_wire_rect rect;
			enum tessera_wire_error_code code =
				decode_rect(d, src + 16 * (size_t)i, &rect, err);
			if (code != TESSERA_WIRE_ERROR_NONE) {
				return code;
			}
			memcpy(array + sizeof(rect) * i, &rect, sizeof(rect));
		}
		break;
	case VAR_STRING:
		if (!tessera_wire_string_valid((const char *)src, count)) {
			return wire_fail(err, TESSERA_WIRE_ERROR_STRING, d->type, d->var_name,
				"invalid UTF-8 or forbidden character");
		}
		memcpy(array, src, count);
		array[count] = '\0'; /* the array has max_count + 1 bytes */
		break;
	case VAR_BYTES:
		memcpy(array, src, count);
		break;
	case VAR_KEYS:
		for (uint32_t i = 0; i < count; i++) {
			uint32_t key = wire_get32(src + 4 * (size_t)i);
			if (key > TESSERA_WIRE_MAX_KEY) {
				return wire_fail(err, TESSERA_WIRE_ERROR_VALUE, d->type,
					d->var_name, "key code above KEY_MAX");
			}
			memcpy(array + sizeof(key) * i, &key, sizeof(key));
		}
		break;
	}

	for (uint64_t i = d->fixed + body; i < size; i++) {
		if (p[i] != 0) {
			return wire_fail(err, TESSERA_WIRE_ERROR_RESERVED, d->type, d->var_name,
				"padding not zero");
		}
	}
	return TESSERA_WIRE_ERROR_NONE;
}

enum tessera_wire_error_code tessera_wire_decode(const void *data, size_t len,
		enum tessera_wire_direction dir, struct tessera_wire_msg *msg,
		struct tessera_wire_error *err) {
	const uint8_t *p = data;
	if (len < TESSERA_WIRE_HEADER_SIZE) {
		return wire_fail(err, TESSERA_WIRE_ERROR_TRUNCATED, 0, "header",
			"fewer than 8 bytes left");
	}
	uint16_t type = wire_get16(p);
	uint16_t flags = wire_get16(p + 2);
	uint32_t size = wire_get32(p + 4);
	if (size < TESSERA_WIRE_HEADER_SIZE) {
		return wire_fail(err, TESSERA_WIRE_ERROR_SIZE, type, "header.size",
			"smaller than the header");
	}
	if (size > TESSERA_WIRE_MAX_MESSAGE_SIZE) {
		return wire_fail(err, TESSERA_WIRE_ERROR_SIZE, type, "header.size",
			"above TESSERA_WIRE_MAX_MESSAGE_SIZE");
	}
	if (size % TESSERA_WIRE_ALIGNMENT != 0) {
		return wire_fail(err, TESSERA_WIRE_ERROR_ALIGNMENT, type, "header.size",
			"not a multiple of 8");
	}
	if (size > len) {
		return wire_fail(err, TESSERA_WIRE_ERROR_TRUNCATED, type, "header.size",
			"beyond the end of the buffer");
	}

	const struct msg_desc *d = NULL;
	if (type != TESSERA_WIRE_PAD) {
		d = find_desc(type);
		if (d == NULL || d->dir != dir) {
			return wire_fail(err, TESSERA_WIRE_ERROR_UNKNOWN_TYPE, type,
				"header.type", "not a message of this direction");
		}
	}
	if (flags != 0) {
		return wire_fail(err, TESSERA_WIRE_ERROR_FLAGS, type, "header.flags",
			"must be 0");
	}

	msg->type = type;
	msg->flags = 0;
	msg->size = size;
	if (d == NULL) {
		return TESSERA_WIRE_ERROR_NONE; /* PAD: body ignored */
	}
	if (size < d->fixed) {
		return wire_fail(err, TESSERA_WIRE_ERROR_SHORT, type, "header.size",
			"smaller than the fixed part of the message");
	}
	if (d->var == VAR_NONE && size != d->fixed) {
		return wire_fail(err, TESSERA_WIRE_ERROR_SIZE, type, "header.size",
			"larger than the message");
	}

	uint8_t *base = (uint8_t *)msg + offsetof(struct tessera_wire_msg, hello);
	memset(base, 0, d->struct_size);
	enum tessera_wire_error_code code = decode_fields(d, p, base, err);
	if (code == TESSERA_WIRE_ERROR_NONE && d->var != VAR_NONE) {
		code = decode_var(d, p, size, base, err);
	}
	if (code == TESSERA_WIRE_ERROR_NONE && d->check != NULL) {
		code = d->check(msg, err);
	}
	return code;
}

void tessera_wire_reader_init(struct tessera_wire_reader *reader,
		const void *data, size_t size, enum tessera_wire_direction dir) {
	*reader = (struct tessera_wire_reader){
		.data = data,
		.size = size,
		.dir = dir,
	};
}

bool tessera_wire_reader_next(struct tessera_wire_reader *reader,
		struct tessera_wire_msg *msg) {
	if (reader->error.code != TESSERA_WIRE_ERROR_NONE) {
		return false;
	}
	if (reader->size > TESSERA_WIRE_MAX_BATCH_SIZE) {
		wire_fail(&reader->error, TESSERA_WIRE_ERROR_SIZE, 0, "batch",
			"above TESSERA_WIRE_MAX_BATCH_SIZE");
		return false;
	}
	while (reader->offset < reader->size) {
		size_t offset = reader->offset;
		enum tessera_wire_error_code code = tessera_wire_decode(
			reader->data + offset, reader->size - offset, reader->dir, msg,
			&reader->error);
		if (code != TESSERA_WIRE_ERROR_NONE) {
			reader->error.offset = offset;
			return false;
		}
		reader->offset += msg->size;
		if (msg->type == TESSERA_WIRE_PAD) {
			continue;
		}
		if (msg->type == TESSERA_WIRE_WAIT && reader->offset != reader->size) {
			wire_fail(&reader->error, TESSERA_WIRE_ERROR_ORDER, msg->type, "WAIT",
				"not the last message of the batch");
			reader->error.offset = offset;
			return false;
		}
		return true;
	}
	return false;
}

/* --- resource checks --- */

enum tessera_wire_error_code tessera_wire_check_range(uint64_t offset,
		uint64_t size, uint64_t resource_size, struct tessera_wire_error *err) {
	uint64_t end;
	if (__builtin_add_overflow(offset, size, &end)) {
		return wire_fail(err, TESSERA_WIRE_ERROR_RANGE, 0, "offset",
			"offset + size overflows");
	}
	if (end > resource_size) {
		return wire_fail(err, TESSERA_WIRE_ERROR_RANGE, 0, "offset",
			"offset + size beyond the resource");
	}
	return TESSERA_WIRE_ERROR_NONE;
}

enum tessera_wire_error_code tessera_wire_check_buffer(
		const struct tessera_wire_buffer_create *buffer, uint64_t resource_size,
		struct tessera_wire_error *err) {
	const uint16_t type = TESSERA_WIRE_BUFFER_CREATE;
	enum tessera_wire_error_code code = check_buffer_fields(buffer, type, err);
	if (code != TESSERA_WIRE_ERROR_NONE) {
		return code;
	}
	uint64_t bytes, end;
	if (__builtin_mul_overflow((uint64_t)buffer->stride, (uint64_t)buffer->height,
			&bytes)) {
		return wire_fail(err, TESSERA_WIRE_ERROR_RANGE, type,
			"BUFFER_CREATE.stride", "stride * height overflows");
	}
	if (__builtin_add_overflow(buffer->offset, bytes, &end)) {
		return wire_fail(err, TESSERA_WIRE_ERROR_RANGE, type,
			"BUFFER_CREATE.offset", "offset + stride * height overflows");
	}
	if (end > resource_size) {
		return wire_fail(err, TESSERA_WIRE_ERROR_RANGE, type,
			"BUFFER_CREATE.offset", "offset + stride * height beyond the resource");
	}
	return TESSERA_WIRE_ERROR_NONE;
}

/* --- encoding --- */

void tessera_wire_writer_init(struct tessera_wire_writer *writer,
		void *data, size_t capacity) {
	*writer = (struct tessera_wire_writer){
		.data = data,
		.capacity = capacity,
	};
}

static uint32_t var_count(const struct msg_desc *d, const struct tessera_wire_msg *msg) {
	const uint8_t *base = (const uint8_t *)msg + offsetof(struct tessera_wire_msg, hello);
	uint32_t count;
	memcpy(&count, base + d->count_mem, sizeof(count));
	return count;
}

size_t tessera_wire_encoded_size(const struct tessera_wire_msg *msg) {
	if (msg->type == TESSERA_WIRE_PAD) {
		return TESSERA_WIRE_HEADER_SIZE;
	}
	const struct msg_desc *d = find_desc(msg->type);
	if (d == NULL) {
		return 0;
	}
	if (d->var == VAR_NONE) {
		return d->fixed;
	}
	uint32_t count = var_count(d, msg);
	if (count > d->max_count) {
		return 0;
	}
	return (size_t)wire_align8(d->fixed + (uint64_t)count * var_elem_size(d->var));
}

static void encode_fields(const struct msg_desc *d, const uint8_t *base, uint8_t *p) {
	for (size_t i = 0; i < d->n_fields; i++) {
		const struct field *f = &d->fields[i];
		if (f->check == CHK_RESERVED) {
			continue; /* the output was zeroed */
		}
		const uint8_t *src = base + f->mem;
		switch (f->kind) {
		case K_U16: {
			uint16_t v;
			memcpy(&v, src, sizeof(v));
			wire_put16(p + f->wire, v);
			break;
		}
		case K_U32:
		case K_I32: {
			uint32_t v;
			memcpy(&v, src, sizeof(v));
			wire_put32(p + f->wire, v);
			break;
		}
		default: {
			uint64_t v;
			memcpy(&v, src, sizeof(v));
			wire_put64(p + f->wire, v);
			break;
		}
		}
	}
}

static void encode_var(const struct msg_desc *d, const uint8_t *base, uint32_t count,
		uint8_t *p) {
	const uint8_t *array = base + d->array_mem;
	uint8_t *dst = p + d->fixed;
	switch (d->var) {
	case VAR_DAMAGE:
	case VAR_REGION:
		for (uint32_t i = 0; i < count; i++) {
			struct tessera_wire_rect rect;
			memcpy(&rect, array + sizeof(rect) * i, sizeof(rect));
			wire_put32(dst + 16 * (size_t)i, (uint32_t)rect.x);
			wire_put32(dst + 16 * (size_t)i + 4, (uint32_t)rect.y);
			wire_put32(dst + 16 * (size_t)i + 8, (uint32_t)rect.width);
			wire_put32(dst + 16 * (size_t)i + 12, (uint32_t)rect.height);
		}
		break;
	case VAR_STRING:
	case VAR_BYTES:
		memcpy(dst, array, count);
		break;
	case VAR_KEYS:
		for (uint32_t i = 0; i < count; i++) {
			uint32_t key;
			memcpy(&key, array + sizeof(key) * i, sizeof(key));
			wire_put32(dst + 4 * (size_t)i, key);
		}
		break;
	}
}

enum tessera_wire_error_code tessera_wire_encode(
		struct tessera_wire_writer *writer, const struct tessera_wire_msg *msg,
		struct tessera_wire_error *err) {
	const struct msg_desc *d = NULL;
	if (msg->type != TESSERA_WIRE_PAD) {
		d = find_desc(msg->type);
		if (d == NULL) {
			return wire_fail(err, TESSERA_WIRE_ERROR_UNKNOWN_TYPE, msg->type,
				"header.type", "unknown message type");
		}
	}
	size_t size = tessera_wire_encoded_size(msg);
	if (size == 0) {
		return wire_fail(err, TESSERA_WIRE_ERROR_COUNT, msg->type,
			d->var_name, "count beyond its limit");
	}
	if (size > TESSERA_WIRE_MAX_MESSAGE_SIZE) {
		return wire_fail(err, TESSERA_WIRE_ERROR_SIZE, msg->type, "header.size",
			"above TESSERA_WIRE_MAX_MESSAGE_SIZE");
	}
	bool fits = writer->len <= writer->capacity &&
		size <= writer->capacity - writer->len;
	/* If it does not fit, still validate (in a scratch buffer) so that an
	 * invalid message is reported as such and not as NO_SPACE. */
	uint8_t scratch[TESSERA_WIRE_MAX_MESSAGE_SIZE];
	uint8_t *p = fits ? writer->data + writer->len : scratch;
	memset(p, 0, size);
	wire_put16(p, msg->type);
	wire_put16(p + 2, 0);
	wire_put32(p + 4, (uint32_t)size);
	if (d != NULL) {
		const uint8_t *base = (const uint8_t *)msg +
			offsetof(struct tessera_wire_msg, hello);
		encode_fields(d, base, p);
		if (d->var != VAR_NONE) {
			encode_var(d, base, var_count(d, msg), p);
		}

		/* Validate exactly as a peer will. */
		struct tessera_wire_msg check;
		enum tessera_wire_error_code code =
			tessera_wire_decode(p, size, d->dir, &check, err);
		if (code != TESSERA_WIRE_ERROR_NONE) {
			memset(p, 0, size);
			return code;
		}
	}
	if (!fits) {
		return wire_fail(err, TESSERA_WIRE_ERROR_NO_SPACE, msg->type, "writer",
			"no space left in the output buffer");
	}
	writer->len += size;
	return TESSERA_WIRE_ERROR_NONE;
}
