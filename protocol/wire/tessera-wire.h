/*
 * tessera wire protocol v1 codec: constants, decoded message structs, a
 * validating decoder, bounded encoders and the event ring helpers.
 *
 * The protocol is specified in protocol/PROTOCOL.md; section numbers below
 * (§n) refer to it. Shared by the host daemon (tessera-vmd: decodes
 * requests, writes events into the ring) and the guest agent (encodes
 * requests, reads events from the ring).
 *
 * Pure library: no allocation, no logging, no global state. Every function
 * is reentrant. Errors come back as a code plus static strings naming the
 * field and the reason.
 *
 * Lifetime: decoding copies everything (including strings, rect and key
 * arrays) into the caller's struct tessera_wire_msg, so a decoded message
 * never points into the input buffer and the input may be reused or
 * modified right after the call. Strings are NUL-terminated in the struct.
 *
 * Untrusted input: a host MUST copy the SUBMIT_3D payload out of guest
 * memory before decoding it (§13); the ring writer never reads ring memory
 * except the tail index, once per call.
 */
#ifndef TESSERA_WIRE_H
#define TESSERA_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* --- Limits (§12) --- */

#define TESSERA_WIRE_VERSION 1
#define TESSERA_WIRE_HEADER_SIZE 8
#define TESSERA_WIRE_ALIGNMENT 8
#define TESSERA_WIRE_MAX_MESSAGE_SIZE 8192
#define TESSERA_WIRE_MAX_BATCH_SIZE (256 * 1024)
#define TESSERA_WIRE_MAX_TITLE_LENGTH 1024
#define TESSERA_WIRE_MAX_APP_ID_LENGTH 256
#define TESSERA_WIRE_MAX_ERROR_MESSAGE_LENGTH 256
#define TESSERA_WIRE_MAX_DAMAGE_RECTS 64
#define TESSERA_WIRE_MAX_REGION_RECTS 256
#define TESSERA_WIRE_MAX_KEYS 64
#define TESSERA_WIRE_MAX_DIMENSION 16384
#define TESSERA_WIRE_MAX_STRIDE (256 * 1024)
#define TESSERA_WIRE_MAX_COORD (1 << 20)
#define TESSERA_WIRE_MAX_FIXED_COORD (TESSERA_WIRE_MAX_COORD * 256)
#define TESSERA_WIRE_MAX_SCALE 8
#define TESSERA_WIRE_MAX_KEY 0x2ff
#define TESSERA_WIRE_MAX_KEYMAP_SIZE (1 << 20)
#define TESSERA_WIRE_MAX_REPEAT_RATE 1000
#define TESSERA_WIRE_MAX_REPEAT_DELAY 10000
#define TESSERA_WIRE_MAX_REFRESH_MHZ 1000000
/* Clipboard (§16): bytes of one CLIPBOARD_DATA / CLIPBOARD_PASTE chunk
 * (the largest that keeps the message within MAX_MESSAGE_SIZE) and of one
 * whole transfer. */
#define TESSERA_WIRE_MAX_CLIPBOARD_CHUNK (TESSERA_WIRE_MAX_MESSAGE_SIZE - 24)
#define TESSERA_WIRE_MAX_CLIPBOARD_SIZE (256u * 1024 * 1024)
/* Enforced by the host, not by the stateless codec (§5). */
#define TESSERA_WIRE_MAX_SURFACES 1024
#define TESSERA_WIRE_MAX_BUFFERS 4096
#define TESSERA_WIRE_MAX_TREE_DEPTH 32

/* --- Message types (§6, §7) --- */

enum tessera_wire_type {
	TESSERA_WIRE_PAD = 0x0000,

	/* requests, guest -> host */
	TESSERA_WIRE_HELLO = 0x0001,
	TESSERA_WIRE_EVENT_RING = 0x0002,
	TESSERA_WIRE_SET_KEYMAP_AREA = 0x0003,
	TESSERA_WIRE_WAIT = 0x0004,
	TESSERA_WIRE_SURFACE_CREATE = 0x0010,
	TESSERA_WIRE_SURFACE_DESTROY = 0x0011,
	TESSERA_WIRE_COMMIT = 0x0012,
	TESSERA_WIRE_SET_INPUT_REGION = 0x0013,
	TESSERA_WIRE_SET_OPAQUE_REGION = 0x0014,
	TESSERA_WIRE_BUFFER_CREATE = 0x0018,
	TESSERA_WIRE_BUFFER_DESTROY = 0x0019,
	TESSERA_WIRE_TOPLEVEL_CREATE = 0x0020,
	TESSERA_WIRE_SET_TITLE = 0x0021,
	TESSERA_WIRE_SET_APP_ID = 0x0022,
	TESSERA_WIRE_TOPLEVEL_SET_PARENT = 0x0023,
	TESSERA_WIRE_TOPLEVEL_SET_SIZE_LIMITS = 0x0024,
	TESSERA_WIRE_TOPLEVEL_REQUEST = 0x0025,
	TESSERA_WIRE_TOPLEVEL_MOVE = 0x0026,
	TESSERA_WIRE_TOPLEVEL_RESIZE = 0x0027,
	TESSERA_WIRE_TOPLEVEL_SHOW_WINDOW_MENU = 0x0028,
	TESSERA_WIRE_TOPLEVEL_SET_DECORATION = 0x0029,
	TESSERA_WIRE_ACK_CONFIGURE = 0x002a,
	TESSERA_WIRE_SET_WINDOW_GEOMETRY = 0x002b,
	TESSERA_WIRE_POPUP_CREATE = 0x0030,
	TESSERA_WIRE_POPUP_GRAB = 0x0031,
	TESSERA_WIRE_POPUP_REPOSITION = 0x0032,
	TESSERA_WIRE_SUBSURFACE_CREATE = 0x0038,
	TESSERA_WIRE_SUBSURFACE_SET_POSITION = 0x0039,
	TESSERA_WIRE_SUBSURFACE_PLACE = 0x003a,
	TESSERA_WIRE_SUBSURFACE_SET_SYNC = 0x003b,
	TESSERA_WIRE_SET_CURSOR = 0x0040,
	TESSERA_WIRE_CLIPBOARD_DATA = 0x0050,
	TESSERA_WIRE_CLIPBOARD_FAIL = 0x0051,
	TESSERA_WIRE_SHARE_BUFFER = 0x0060, /* feature SHARE (§17) */

	/* events, host -> guest (event ring) */
	TESSERA_WIRE_HELLO_REPLY = 0x8001,
	TESSERA_WIRE_ERROR = 0x8002,
	TESSERA_WIRE_KEYMAP = 0x8003,
	TESSERA_WIRE_OUTPUT = 0x8010,
	TESSERA_WIRE_OUTPUT_REMOVE = 0x8011,
	TESSERA_WIRE_SURFACE_ENTER = 0x8012,
	TESSERA_WIRE_SURFACE_LEAVE = 0x8013,
	TESSERA_WIRE_FRAME_DONE = 0x8014,
	TESSERA_WIRE_PRESENTED = 0x8015,
	TESSERA_WIRE_BUFFER_RELEASE = 0x8016,
	TESSERA_WIRE_CONFIGURE = 0x8020,
	TESSERA_WIRE_CLOSE = 0x8021,
	TESSERA_WIRE_POPUP_CONFIGURE = 0x8022,
	TESSERA_WIRE_POPUP_REPOSITIONED = 0x8023,
	TESSERA_WIRE_POPUP_DONE = 0x8024,
	TESSERA_WIRE_POINTER_ENTER = 0x8030,
	TESSERA_WIRE_POINTER_LEAVE = 0x8031,
	TESSERA_WIRE_POINTER_MOTION = 0x8032,
	TESSERA_WIRE_POINTER_BUTTON = 0x8033,
	TESSERA_WIRE_POINTER_AXIS = 0x8034,
	TESSERA_WIRE_POINTER_FRAME = 0x8035,
	TESSERA_WIRE_KEYBOARD_ENTER = 0x8040,
	TESSERA_WIRE_KEYBOARD_LEAVE = 0x8041,
	TESSERA_WIRE_KEYBOARD_KEY = 0x8042,
	TESSERA_WIRE_KEYBOARD_MODIFIERS = 0x8043,
	TESSERA_WIRE_KEYBOARD_REPEAT_INFO = 0x8044,
	TESSERA_WIRE_CLIPBOARD_REQUEST = 0x8050,
	TESSERA_WIRE_CLIPBOARD_PASTE = 0x8051,
	TESSERA_WIRE_CLIPBOARD_CANCEL = 0x8052,
	TESSERA_WIRE_SHARE_OFFER = 0x8060, /* feature SHARE (§17) */
	TESSERA_WIRE_SHARE_END = 0x8061,
	TESSERA_WIRE_SHARE_FRAME = 0x8062,
};

/* Which side sends a message: decides which types a decoder accepts. */
enum tessera_wire_direction {
	TESSERA_WIRE_REQUESTS, /* guest -> host, SUBMIT_3D batches */
	TESSERA_WIRE_EVENTS, /* host -> guest, event ring */
};

/* --- Error codes (§11) --- */

enum tessera_wire_error_code {
	TESSERA_WIRE_ERROR_NONE = 0,
	/* fatal: decoding / validation */
	TESSERA_WIRE_ERROR_TRUNCATED = 1,
	TESSERA_WIRE_ERROR_SHORT = 2,
	TESSERA_WIRE_ERROR_SIZE = 3,
	TESSERA_WIRE_ERROR_ALIGNMENT = 4,
	TESSERA_WIRE_ERROR_UNKNOWN_TYPE = 5,
	TESSERA_WIRE_ERROR_FLAGS = 6,
	TESSERA_WIRE_ERROR_RESERVED = 7,
	TESSERA_WIRE_ERROR_COUNT = 8,
	TESSERA_WIRE_ERROR_STRING = 9,
	TESSERA_WIRE_ERROR_ID = 10,
	TESSERA_WIRE_ERROR_VALUE = 11,
	TESSERA_WIRE_ERROR_DIMENSION = 12,
	TESSERA_WIRE_ERROR_STRIDE = 13,
	TESSERA_WIRE_ERROR_FORMAT = 14,
	TESSERA_WIRE_ERROR_RANGE = 15,
	TESSERA_WIRE_ERROR_COORDINATE = 16,
	TESSERA_WIRE_ERROR_ORDER = 17,
	/* fatal: host session state */
	TESSERA_WIRE_ERROR_VERSION = 32,
	TESSERA_WIRE_ERROR_STATE = 33,
	TESSERA_WIRE_ERROR_NO_OBJECT = 34,
	TESSERA_WIRE_ERROR_ID_REUSE = 35,
	TESSERA_WIRE_ERROR_ROLE = 36,
	TESSERA_WIRE_ERROR_RESOURCE = 37,
	TESSERA_WIRE_ERROR_LIMIT = 38,
	TESSERA_WIRE_ERROR_RING = 39,
	TESSERA_WIRE_ERROR_HOST = 40,
	/* non-fatal notices */
	TESSERA_WIRE_ERROR_OVERFLOW = 0x100,
	TESSERA_WIRE_ERROR_BUFFER_FAILED = 0x101,
	/* local to the encoder, never on the wire */
	TESSERA_WIRE_ERROR_NO_SPACE = 0x200,
};

#define TESSERA_WIRE_ERROR_FIRST_NOTICE 0x100

/* An error found by the codec. All strings are static. */
struct tessera_wire_error {
	enum tessera_wire_error_code code;
	const char *field; /* e.g. "BUFFER_CREATE.stride"; never NULL when code != NONE */
	const char *reason; /* e.g. "smaller than width * bytes per pixel" */
	uint16_t type; /* type of the offending message, 0 if unknown */
	size_t offset; /* byte offset of the offending message in its batch */
};

/* --- Enumerations and flags of message fields --- */

#define TESSERA_WIRE_FORMAT_XRGB8888 0x34325258u /* 'XR24' */
#define TESSERA_WIRE_FORMAT_ARGB8888 0x34325241u /* 'AR24' */
#define TESSERA_WIRE_FORMAT_XBGR8888 0x34324258u /* 'XB24' */
#define TESSERA_WIRE_FORMAT_ABGR8888 0x34324241u /* 'AB24' */

#define TESSERA_WIRE_COMMIT_FRAME (1u << 0)
#define TESSERA_WIRE_COMMIT_PRESENTATION (1u << 1)
#define TESSERA_WIRE_COMMIT_DAMAGE_ALL (1u << 2)

#define TESSERA_WIRE_REGION_INFINITE (1u << 0)

enum tessera_wire_toplevel_action {
	TESSERA_WIRE_TOPLEVEL_SET_MAXIMIZED = 1,
	TESSERA_WIRE_TOPLEVEL_UNSET_MAXIMIZED = 2,
	TESSERA_WIRE_TOPLEVEL_SET_FULLSCREEN = 3,
	TESSERA_WIRE_TOPLEVEL_UNSET_FULLSCREEN = 4,
	TESSERA_WIRE_TOPLEVEL_SET_MINIMIZED = 5,
};

enum tessera_wire_decoration_mode {
	TESSERA_WIRE_DECORATION_NONE = 0, /* CONFIGURE only: not negotiated */
	TESSERA_WIRE_DECORATION_CLIENT_SIDE = 1,
	TESSERA_WIRE_DECORATION_SERVER_SIDE = 2,
};

#define TESSERA_WIRE_POSITIONER_REACTIVE (1u << 0)
#define TESSERA_WIRE_POSITIONER_PARENT_SIZE (1u << 1)
#define TESSERA_WIRE_POSITIONER_PARENT_CONFIGURE (1u << 2)

#define TESSERA_WIRE_CONFIGURE_MAXIMIZED (1u << 0)
#define TESSERA_WIRE_CONFIGURE_FULLSCREEN (1u << 1)
#define TESSERA_WIRE_CONFIGURE_RESIZING (1u << 2)
#define TESSERA_WIRE_CONFIGURE_ACTIVATED (1u << 3)
#define TESSERA_WIRE_CONFIGURE_TILED_LEFT (1u << 4)
#define TESSERA_WIRE_CONFIGURE_TILED_RIGHT (1u << 5)
#define TESSERA_WIRE_CONFIGURE_TILED_TOP (1u << 6)
#define TESSERA_WIRE_CONFIGURE_TILED_BOTTOM (1u << 7)
#define TESSERA_WIRE_CONFIGURE_SUSPENDED (1u << 8)

#define TESSERA_WIRE_PRESENTED_KIND_MASK 0xfu /* wp_presentation_feedback.kind */
#define TESSERA_WIRE_PRESENTED_DISCARDED (1u << 8)

#define TESSERA_WIRE_AXIS_STOP (1u << 0)
#define TESSERA_WIRE_AXIS_SOURCE (1u << 1)
#define TESSERA_WIRE_AXIS_VALUE120 (1u << 2)

#define TESSERA_WIRE_KEYMAP_FORMAT_XKB_V1 1

/* HELLO.features / HELLO_REPLY.features (§4.3) */
#define TESSERA_WIRE_FEATURE_CLIPBOARD (UINT64_C(1) << 0) /* the clipboard, §16 */
#define TESSERA_WIRE_FEATURE_SHARE (UINT64_C(1) << 1) /* window sharing, §17 */

/* The clipboard's data types (§16); a mask has bit 1 << type per type. */
enum tessera_wire_clipboard_type {
	TESSERA_WIRE_CLIPBOARD_TEXT = 1, /* text/plain;charset=utf-8 */
	TESSERA_WIRE_CLIPBOARD_PNG = 2, /* image/png */
	TESSERA_WIRE_CLIPBOARD_URI_LIST = 3, /* text/uri-list */
};
#define TESSERA_WIRE_CLIPBOARD_TYPE_MAX 3
#define TESSERA_WIRE_CLIPBOARD_TYPES_ALL 0xeu

#define TESSERA_WIRE_CLIPBOARD_LAST (1u << 0)

/* CLIPBOARD_FAIL.reason and CLIPBOARD_CANCEL.reason */
enum tessera_wire_clipboard_reason {
	TESSERA_WIRE_CLIPBOARD_EMPTY = 1, /* no selection */
	TESSERA_WIRE_CLIPBOARD_NO_TYPE = 2, /* none of the types asked for */
	TESSERA_WIRE_CLIPBOARD_TOO_LARGE = 3, /* over the transfer's limit */
	TESSERA_WIRE_CLIPBOARD_SOURCE = 4, /* the source failed */
	TESSERA_WIRE_CLIPBOARD_TIMEOUT = 5, /* no progress for too long */
	TESSERA_WIRE_CLIPBOARD_CANCELLED = 6, /* the other side gave up */
};
#define TESSERA_WIRE_CLIPBOARD_REASON_MAX 6

/* --- Decoded messages --- */

struct tessera_wire_rect {
	int32_t x, y, width, height;
};

struct tessera_wire_hello {
	uint32_t max_version, min_version;
	uint64_t features;
};

/* EVENT_RING and SET_KEYMAP_AREA: an area inside a resource. */
struct tessera_wire_area {
	uint32_t resource;
	uint32_t size;
	uint64_t offset;
};

/* SURFACE_CREATE, SURFACE_DESTROY, TOPLEVEL_CREATE */
struct tessera_wire_surface_ref {
	uint32_t surface;
};

struct tessera_wire_commit {
	uint32_t surface;
	uint32_t buffer; /* 0: no buffer */
	uint32_t serial;
	uint32_t flags; /* TESSERA_WIRE_COMMIT_* */
	int32_t dx, dy;
	int32_t scale;
	uint32_t transform;
	uint32_t damage_count;
	struct tessera_wire_rect damage[TESSERA_WIRE_MAX_DAMAGE_RECTS];
};

/* SET_INPUT_REGION, SET_OPAQUE_REGION */
struct tessera_wire_region {
	uint32_t surface;
	uint32_t flags; /* TESSERA_WIRE_REGION_* */
	uint32_t rect_count;
	struct tessera_wire_rect rects[TESSERA_WIRE_MAX_REGION_RECTS];
};

struct tessera_wire_buffer_create {
	uint32_t buffer;
	uint32_t resource;
	uint32_t format;
	uint32_t width, height;
	uint32_t stride;
	uint64_t offset;
};

struct tessera_wire_buffer_destroy {
	uint32_t buffer;
};

/* SET_TITLE, SET_APP_ID: text is NUL-terminated, length excludes the NUL. */
struct tessera_wire_string {
	uint32_t surface;
	uint32_t length;
	char text[TESSERA_WIRE_MAX_TITLE_LENGTH + 1];
};

struct tessera_wire_set_parent {
	uint32_t surface;
	uint32_t parent; /* 0: none */
};

struct tessera_wire_size_limits {
	uint32_t surface;
	int32_t min_width, min_height;
	int32_t max_width, max_height;
};

struct tessera_wire_toplevel_request {
	uint32_t surface;
	uint32_t action; /* enum tessera_wire_toplevel_action */
	uint32_t output; /* SET_FULLSCREEN only, 0: any */
};

/* TOPLEVEL_MOVE, POPUP_GRAB, ACK_CONFIGURE */
struct tessera_wire_surface_serial {
	uint32_t surface;
	uint32_t serial;
};

struct tessera_wire_resize {
	uint32_t surface;
	uint32_t serial;
	uint32_t edges; /* xdg_toplevel.resize_edge */
};

struct tessera_wire_window_menu {
	uint32_t surface;
	uint32_t serial;
	int32_t x, y;
};

struct tessera_wire_decoration {
	uint32_t surface;
	uint32_t mode; /* enum tessera_wire_decoration_mode, 1 or 2 */
};

struct tessera_wire_window_geometry {
	uint32_t surface;
	int32_t x, y, width, height;
};

struct tessera_wire_positioner {
	int32_t width, height;
	int32_t anchor_x, anchor_y, anchor_width, anchor_height;
	uint32_t anchor, gravity; /* xdg_positioner enums, 0..8 */
	uint32_t constraint_adjustment;
	int32_t offset_x, offset_y;
	uint32_t flags; /* TESSERA_WIRE_POSITIONER_* */
	int32_t parent_width, parent_height;
	uint32_t parent_configure;
};

struct tessera_wire_popup_create {
	uint32_t surface;
	uint32_t parent;
	struct tessera_wire_positioner positioner;
};

struct tessera_wire_popup_reposition {
	uint32_t surface;
	uint32_t token;
	struct tessera_wire_positioner positioner;
};

struct tessera_wire_subsurface_create {
	uint32_t surface;
	uint32_t parent;
};

struct tessera_wire_subsurface_position {
	uint32_t surface;
	int32_t x, y;
};

struct tessera_wire_subsurface_place {
	uint32_t surface;
	uint32_t sibling;
	uint32_t above; /* 0: below, 1: above */
};

struct tessera_wire_subsurface_sync {
	uint32_t surface;
	uint32_t sync; /* 0 or 1 */
};

struct tessera_wire_set_cursor {
	uint32_t surface; /* 0: hide */
	uint32_t serial;
	int32_t hotspot_x, hotspot_y;
};

/* CLIPBOARD_DATA (request) and CLIPBOARD_PASTE (event): one chunk. */
struct tessera_wire_clipboard_chunk {
	uint32_t transfer;
	uint32_t type; /* enum tessera_wire_clipboard_type */
	uint32_t flags; /* TESSERA_WIRE_CLIPBOARD_LAST */
	uint32_t length;
	uint8_t data[TESSERA_WIRE_MAX_CLIPBOARD_CHUNK];
};

/* CLIPBOARD_FAIL (request) and CLIPBOARD_CANCEL (event). */
struct tessera_wire_clipboard_end {
	uint32_t transfer;
	uint32_t reason; /* enum tessera_wire_clipboard_reason */
};

struct tessera_wire_clipboard_request {
	uint32_t transfer;
	uint32_t types; /* mask of 1 << enum tessera_wire_clipboard_type */
	uint32_t limit; /* bytes at most */
};

struct tessera_wire_hello_reply {
	uint32_t version;
	uint64_t features;
};

struct tessera_wire_error_event {
	uint32_t code; /* enum tessera_wire_error_code */
	uint16_t request_type;
	uint32_t object;
	uint32_t offset;
	uint64_t count;
	uint32_t message_length;
	char message[TESSERA_WIRE_MAX_ERROR_MESSAGE_LENGTH + 1];
};

struct tessera_wire_keymap {
	uint32_t resource;
	uint32_t size;
	uint32_t format;
};

struct tessera_wire_output {
	uint32_t output;
	int32_t x, y;
	int32_t width, height;
	uint32_t refresh_mhz;
	int32_t scale;
	uint32_t transform;
	int32_t physical_width_mm, physical_height_mm;
};

struct tessera_wire_output_remove {
	uint32_t output;
};

/* SURFACE_ENTER, SURFACE_LEAVE */
struct tessera_wire_surface_output {
	uint32_t surface;
	uint32_t output;
};

struct tessera_wire_frame_done {
	uint32_t surface;
	uint32_t serial;
	uint32_t time;
};

struct tessera_wire_presented {
	uint32_t surface;
	uint32_t serial;
	uint64_t tv_sec;
	uint32_t tv_nsec;
	uint32_t refresh_ns;
	uint64_t seq;
	uint32_t flags;
	uint32_t output;
};

struct tessera_wire_buffer_release {
	uint32_t buffer;
	uint64_t release_point;
};

struct tessera_wire_configure {
	uint32_t surface;
	uint32_t serial;
	int32_t width, height;
	int32_t bounds_width, bounds_height;
	uint32_t states; /* TESSERA_WIRE_CONFIGURE_* */
	uint32_t decoration; /* enum tessera_wire_decoration_mode */
};

struct tessera_wire_popup_configure {
	uint32_t surface;
	uint32_t serial;
	int32_t x, y, width, height;
};

struct tessera_wire_popup_repositioned {
	uint32_t surface;
	uint32_t token;
};

struct tessera_wire_pointer_enter {
	uint32_t surface;
	uint32_t serial;
	int32_t x, y; /* fixed 24.8 */
};

struct tessera_wire_pointer_motion {
	uint32_t time;
	int32_t x, y; /* fixed 24.8 */
};

/* POINTER_BUTTON, KEYBOARD_KEY */
struct tessera_wire_button {
	uint32_t serial;
	uint32_t time;
	uint32_t code; /* button or key, evdev code */
	uint32_t state; /* 0 released, 1 pressed */
};

struct tessera_wire_pointer_axis {
	uint32_t time;
	uint32_t axis;
	int32_t value; /* fixed 24.8 */
	int32_t value120;
	uint32_t source;
	uint32_t flags; /* TESSERA_WIRE_AXIS_* */
};

struct tessera_wire_keyboard_enter {
	uint32_t surface;
	uint32_t serial;
	uint32_t key_count;
	uint32_t keys[TESSERA_WIRE_MAX_KEYS];
};

struct tessera_wire_keyboard_modifiers {
	uint32_t serial;
	uint32_t depressed, latched, locked, group;
};

struct tessera_wire_repeat_info {
	int32_t rate, delay;
};

/* SHARE_BUFFER (§17) */
struct tessera_wire_share_buffer {
	uint32_t share;
	uint32_t buffer;
};

/* SHARE_OFFER: description is NUL-terminated, length excludes the NUL. */
struct tessera_wire_share_offer {
	uint32_t share;
	uint32_t width, height;
	uint32_t length;
	char description[TESSERA_WIRE_MAX_TITLE_LENGTH + 1];
};

/* SHARE_END */
struct tessera_wire_share_end {
	uint32_t share;
};

/* SHARE_FRAME: damage is the bounding box of what changed, buffer coordinates */
struct tessera_wire_share_frame {
	uint32_t share;
	uint32_t buffer;
	int32_t x, y, width, height;
};

/*
 * One decoded message. `type` selects the union member; the comment names
 * the member for each type. WAIT, POINTER_FRAME and PAD have no body.
 */
struct tessera_wire_msg {
	uint16_t type; /* enum tessera_wire_type */
	uint16_t flags; /* always 0 in v1 */
	uint32_t size; /* bytes on the wire, set by decode and encode */
	union {
		struct tessera_wire_hello hello; /* HELLO */
		struct tessera_wire_area area; /* EVENT_RING, SET_KEYMAP_AREA */
		struct tessera_wire_surface_ref surface; /* SURFACE_CREATE, SURFACE_DESTROY */
		struct tessera_wire_surface_ref toplevel_create; /* TOPLEVEL_CREATE */
		struct tessera_wire_commit commit; /* COMMIT */
		struct tessera_wire_region region; /* SET_INPUT_REGION, SET_OPAQUE_REGION */
		struct tessera_wire_buffer_create buffer_create; /* BUFFER_CREATE */
		struct tessera_wire_buffer_destroy buffer_destroy; /* BUFFER_DESTROY */
		struct tessera_wire_string string; /* SET_TITLE, SET_APP_ID */
		struct tessera_wire_set_parent set_parent; /* TOPLEVEL_SET_PARENT */
		struct tessera_wire_size_limits size_limits; /* TOPLEVEL_SET_SIZE_LIMITS */
		struct tessera_wire_toplevel_request toplevel_request; /* TOPLEVEL_REQUEST */
		struct tessera_wire_surface_serial surface_serial; /* TOPLEVEL_MOVE, POPUP_GRAB, ACK_CONFIGURE */
		struct tessera_wire_resize resize; /* TOPLEVEL_RESIZE */
		struct tessera_wire_window_menu window_menu; /* TOPLEVEL_SHOW_WINDOW_MENU */
		struct tessera_wire_decoration decoration; /* TOPLEVEL_SET_DECORATION */
		struct tessera_wire_window_geometry window_geometry; /* SET_WINDOW_GEOMETRY */
		struct tessera_wire_popup_create popup_create; /* POPUP_CREATE */
		struct tessera_wire_popup_reposition popup_reposition; /* POPUP_REPOSITION */
		struct tessera_wire_subsurface_create subsurface_create; /* SUBSURFACE_CREATE */
		struct tessera_wire_subsurface_position subsurface_position; /* SUBSURFACE_SET_POSITION */
		struct tessera_wire_subsurface_place subsurface_place; /* SUBSURFACE_PLACE */
		struct tessera_wire_subsurface_sync subsurface_sync; /* SUBSURFACE_SET_SYNC */
		struct tessera_wire_set_cursor set_cursor; /* SET_CURSOR */
		struct tessera_wire_share_buffer share_buffer; /* SHARE_BUFFER */
		struct tessera_wire_clipboard_chunk clipboard_chunk; /* CLIPBOARD_DATA, CLIPBOARD_PASTE */
		struct tessera_wire_clipboard_end clipboard_end; /* CLIPBOARD_FAIL, CLIPBOARD_CANCEL */
		struct tessera_wire_clipboard_request clipboard_request; /* CLIPBOARD_REQUEST */

		struct tessera_wire_hello_reply hello_reply; /* HELLO_REPLY */
		struct tessera_wire_error_event error; /* ERROR */
		struct tessera_wire_keymap keymap; /* KEYMAP */
		struct tessera_wire_output output; /* OUTPUT */
		struct tessera_wire_output_remove output_remove; /* OUTPUT_REMOVE */
		struct tessera_wire_surface_output surface_output; /* SURFACE_ENTER, SURFACE_LEAVE */
		struct tessera_wire_frame_done frame_done; /* FRAME_DONE */
		struct tessera_wire_presented presented; /* PRESENTED */
		struct tessera_wire_buffer_release buffer_release; /* BUFFER_RELEASE */
		struct tessera_wire_configure configure; /* CONFIGURE */
		struct tessera_wire_surface_ref close; /* CLOSE */
		struct tessera_wire_surface_ref popup_done; /* POPUP_DONE */
		struct tessera_wire_popup_configure popup_configure; /* POPUP_CONFIGURE */
		struct tessera_wire_popup_repositioned popup_repositioned; /* POPUP_REPOSITIONED */
		struct tessera_wire_pointer_enter pointer_enter; /* POINTER_ENTER */
		struct tessera_wire_surface_serial pointer_leave; /* POINTER_LEAVE */
		struct tessera_wire_pointer_motion pointer_motion; /* POINTER_MOTION */
		struct tessera_wire_button button; /* POINTER_BUTTON */
		struct tessera_wire_button key; /* KEYBOARD_KEY */
		struct tessera_wire_pointer_axis pointer_axis; /* POINTER_AXIS */
		struct tessera_wire_keyboard_enter keyboard_enter; /* KEYBOARD_ENTER */
		struct tessera_wire_surface_serial keyboard_leave; /* KEYBOARD_LEAVE */
		struct tessera_wire_keyboard_modifiers keyboard_modifiers; /* KEYBOARD_MODIFIERS */
		struct tessera_wire_repeat_info repeat_info; /* KEYBOARD_REPEAT_INFO */
		struct tessera_wire_share_offer share_offer; /* SHARE_OFFER */
		struct tessera_wire_share_end share_end; /* SHARE_END */
		struct tessera_wire_share_frame share_frame; /* SHARE_FRAME */
	};
};

/* --- Names --- */

/* "COMMIT", ...; NULL for an unknown type. */
const char *tessera_wire_type_name(uint16_t type);
/* "STRIDE", ...; "UNKNOWN" for an unknown code. */
const char *tessera_wire_error_code_name(uint32_t code);
/* Direction of a type; false if the type is unknown. PAD is both. */
bool tessera_wire_type_direction(uint16_t type, enum tessera_wire_direction *dir);
/* Fatal error codes end the session (§11). */
bool tessera_wire_error_is_fatal(uint32_t code);

/* --- Decoding --- */

/*
 * Decodes and validates the single message at the start of data[0..len).
 * Accepts PAD (type 0) as a message without body. On success returns
 * TESSERA_WIRE_ERROR_NONE, fills msg (msg->size = bytes consumed) and
 * leaves err untouched; otherwise returns the code and fills err (if not
 * NULL) with err->offset = 0. msg contents are unspecified after a failure.
 */
enum tessera_wire_error_code tessera_wire_decode(const void *data, size_t len,
	enum tessera_wire_direction dir, struct tessera_wire_msg *msg,
	struct tessera_wire_error *err);

/*
 * Iterator over a batch (a SUBMIT_3D payload, §2). Usage:
 *
 *	struct tessera_wire_reader reader;
 *	struct tessera_wire_msg msg;
 *	tessera_wire_reader_init(&reader, payload, len, TESSERA_WIRE_REQUESTS);
 *	while (tessera_wire_reader_next(&reader, &msg)) {
 *		handle(&msg);
 *	}
 *	if (reader.error.code != TESSERA_WIRE_ERROR_NONE) {
 *		fail(&reader.error);
 *	}
 *
 * PAD messages are skipped. The first error stops the iteration for good.
 * A batch larger than TESSERA_WIRE_MAX_BATCH_SIZE fails at the first call.
 */
struct tessera_wire_reader {
	const uint8_t *data;
	size_t size;
	size_t offset; /* of the next message */
	enum tessera_wire_direction dir;
	struct tessera_wire_error error; /* code NONE unless failed */
};

void tessera_wire_reader_init(struct tessera_wire_reader *reader,
	const void *data, size_t size, enum tessera_wire_direction dir);
/* Returns true with the next message in msg; false at the end or on error. */
bool tessera_wire_reader_next(struct tessera_wire_reader *reader,
	struct tessera_wire_msg *msg);

/* --- Checks against resource sizes (host side, §6.1, §6.3) --- */

/* offset + size within resource_size, without overflow (RANGE otherwise). */
enum tessera_wire_error_code tessera_wire_check_range(uint64_t offset,
	uint64_t size, uint64_t resource_size, struct tessera_wire_error *err);
/* Revalidates a decoded BUFFER_CREATE and checks offset + stride * height
 * <= resource_size in 64-bit arithmetic with overflow detection. */
enum tessera_wire_error_code tessera_wire_check_buffer(
	const struct tessera_wire_buffer_create *buffer, uint64_t resource_size,
	struct tessera_wire_error *err);
/* Bytes per pixel of a supported format, 0 if unsupported. */
uint32_t tessera_wire_format_bpp(uint32_t format);

/* --- Strings (§3) --- */

/* true if s[0..len) satisfies the wire string rules (any length). */
bool tessera_wire_string_valid(const char *s, size_t len);
/*
 * Copies the NUL-terminated, possibly invalid src into dst as a valid wire
 * string of at most max_len bytes: each byte that does not start a valid
 * UTF-8 sequence becomes U+FFFD, control characters (C0, DEL, C1) become a
 * space, truncation happens at a character boundary. dst must hold
 * max_len + 1 bytes; it is NUL-terminated. Returns the length.
 */
size_t tessera_wire_sanitize_string(char *dst, size_t max_len, const char *src);

/* --- Encoding --- */

/* Appends messages to a caller-supplied buffer (e.g. one batch). */
struct tessera_wire_writer {
	uint8_t *data;
	size_t capacity;
	size_t len;
};

void tessera_wire_writer_init(struct tessera_wire_writer *writer,
	void *data, size_t capacity);
/*
 * Validates msg and appends its encoding: msg->type selects the layout,
 * msg->size and msg->flags are ignored, the counts and lengths in the
 * struct decide the variable parts. Validation is exactly the decoder's
 * (the encoder decodes what it wrote), so a peer never gets a message its
 * decoder rejects. On failure nothing is appended and the error code is
 * returned (NO_SPACE if the message does not fit) and err (if not NULL)
 * filled. PAD is encoded as an 8-byte message.
 */
enum tessera_wire_error_code tessera_wire_encode(
	struct tessera_wire_writer *writer, const struct tessera_wire_msg *msg,
	struct tessera_wire_error *err);
/* Size msg would take on the wire (0 for an unknown type or bad counts). */
size_t tessera_wire_encoded_size(const struct tessera_wire_msg *msg);

/* --- Event ring (§8) --- */

#define TESSERA_WIRE_RING_MAGIC 0x47525354u /* "TSRG" */
#define TESSERA_WIRE_RING_VERSION 1
#define TESSERA_WIRE_RING_HEADER_SIZE 64
#define TESSERA_WIRE_RING_MIN_DATA_SIZE (16 * 1024)
#define TESSERA_WIRE_RING_MAX_DATA_SIZE (1024 * 1024)
#define TESSERA_WIRE_RING_OFFSET_ALIGNMENT 64
/* header field offsets */
#define TESSERA_WIRE_RING_OFF_MAGIC 0
#define TESSERA_WIRE_RING_OFF_VERSION 4
#define TESSERA_WIRE_RING_OFF_HEAD 8
#define TESSERA_WIRE_RING_OFF_TAIL 12
#define TESSERA_WIRE_RING_OFF_DATA_SIZE 16
#define TESSERA_WIRE_RING_OFF_STATUS 20

/* true if size is a valid ring area size (64 + power of two in range). */
bool tessera_wire_ring_size_valid(uint64_t size);

/*
 * Guest: zero-fills and formats a ring area (mem 8-byte aligned, size
 * valid). Returns false if not.
 */
bool tessera_wire_ring_format(void *mem, size_t size);

/* Guest side reader. */
struct tessera_wire_ring_reader {
	uint8_t *mem;
	uint32_t data_size;
	uint32_t tail; /* private copy */
	struct tessera_wire_error error; /* sticky, code NONE unless failed */
};

/* mem/size: a formatted ring area. Returns false if size/alignment bad. */
bool tessera_wire_ring_reader_init(struct tessera_wire_ring_reader *reader,
	void *mem, size_t size);
/*
 * Reads the next event into msg, skipping PAD records, and publishes the
 * new tail (release). Returns false when the ring is empty or on error
 * (reader->error.code != NONE: a corrupt head or record; sticky).
 */
bool tessera_wire_ring_reader_next(struct tessera_wire_ring_reader *reader,
	struct tessera_wire_msg *msg);
/* Unread bytes, as the reader sees them now (0 on a corrupt head). */
uint32_t tessera_wire_ring_reader_available(struct tessera_wire_ring_reader *reader);
/* The host's status word: 0 running, else a fatal error code. */
uint32_t tessera_wire_ring_reader_status(struct tessera_wire_ring_reader *reader);

/* Host side writer. */
struct tessera_wire_ring_writer {
	uint8_t *mem;
	uint32_t data_size;
	uint32_t head; /* private copy, never read back */
	uint64_t dropped; /* events dropped and not reported yet */
	bool broken; /* tail was invalid once: nothing is written any more */
};

enum tessera_wire_ring_result {
	TESSERA_WIRE_RING_OK = 0,
	TESSERA_WIRE_RING_FULL, /* nothing written; retry later or drop */
	TESSERA_WIRE_RING_BROKEN, /* the guest corrupted the tail: fatal RING */
	TESSERA_WIRE_RING_INVALID, /* the event failed validation (host bug) */
};

/*
 * Host: attaches to a ring area the guest registered (mem is the host
 * mapping of [offset, offset + size) of the resource). Checks the header
 * the guest wrote (§8.1); returns RING (with err) if it is wrong.
 */
enum tessera_wire_error_code tessera_wire_ring_writer_init(
	struct tessera_wire_ring_writer *writer, void *mem, size_t size,
	struct tessera_wire_error *err);
/*
 * Writes one event (validated by the encoder). If events were dropped
 * before (tessera_wire_ring_writer_drop), first writes ERROR OVERFLOW with
 * their count; if only that notice fits, it is written and FULL returned.
 */
enum tessera_wire_ring_result tessera_wire_ring_write(
	struct tessera_wire_ring_writer *writer, const struct tessera_wire_msg *event);
/* Writes an already encoded record of len bytes (framing checked). */
enum tessera_wire_ring_result tessera_wire_ring_write_raw(
	struct tessera_wire_ring_writer *writer, const void *record, size_t len);
/* Counts n events as dropped; reported by the next successful write. */
void tessera_wire_ring_writer_drop(struct tessera_wire_ring_writer *writer,
	uint64_t n);
/* Writes a pending OVERFLOW notice if there is one and it fits. */
enum tessera_wire_ring_result tessera_wire_ring_writer_flush(
	struct tessera_wire_ring_writer *writer);
/* Free bytes now (reads the tail); 0 when broken. */
uint32_t tessera_wire_ring_writer_free(struct tessera_wire_ring_writer *writer);
/* true if the guest has not consumed everything (WAIT, §9), or broken. */
bool tessera_wire_ring_writer_unread(struct tessera_wire_ring_writer *writer);
/* Stores the session status word (0 or a fatal error code). */
void tessera_wire_ring_writer_set_status(struct tessera_wire_ring_writer *writer,
	uint32_t status);

#endif
