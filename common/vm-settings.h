/*
 * Per-VM settings of tessera-vmd, in one table: each is a key of a
 * [vm NAME] section of tessera.ini (server/compositor/config.c) and the
 * daemon option --KEY VALUE (server/vmd/main.c), with one syntax, one
 * range and one default. tessera checks a value when it loads its config
 * (so a bad one is reported as FILE:LINE), passes it to the daemon as it
 * was written, and the daemon parses it again with the same code.
 *
 * Adding a setting: one TESSERA_VM_SETTINGS line below (the field of
 * struct tessera_vm_settings, the config key, the option, --help and the
 * range come from it), the code that uses settings->FIELD, and its lines in
 * doc/tessera.ini.5.scd, doc/tessera-vmd.1.scd and doc/tessera.ini.example
 * (the docs tests compare them with this table).
 */
#ifndef TESSERA_COMMON_VM_SETTINGS_H
#define TESSERA_COMMON_VM_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tessera-wire.h"

/* What a value looks like. */
enum tessera_vm_setting_syntax {
	TESSERA_VM_SETTING_COUNT, /* a positive decimal number */
	TESSERA_VM_SETTING_BYTES, /* the same with an optional K, M or G suffix */
	TESSERA_VM_SETTING_SIZE, /* WxH, both within [min, max] */
	TESSERA_VM_SETTING_WORD, /* one of the words TESSERA_VM_WORDS_<field>,
	                          * stored as its index (min 0, max the last) */
	TESSERA_VM_SETTING_PATH, /* an absolute path, at most
	                          * TESSERA_VM_SETTING_VALUE_MAX bytes; default
	                          * 0: empty */
};

/* Longest value accepted (checked before parsing). */
#define TESSERA_VM_SETTING_VALUE_MAX 23

#define TESSERA_VM_SIZE(w, h) ((uint64_t)(w) << 32 | (uint64_t)(h))
/* Maxima that the daemon's code relies on (it checks them statically). */
#define TESSERA_VM_MAX_DISPLAY_SIZE 4088 /* EDID timings have 12-bit sizes */
#define TESSERA_VM_MAX_BACKING_ENTRIES 65536
#define TESSERA_VM_MAX_SCALE 2 /* per-VM scale: 1 or 2 */

/*
 * X(field, key, syntax, default, min, max, help)
 *
 * COUNT and BYTES settings are uint64_t fields; a SIZE setting fills
 * field_width and field_height (uint32_t), and its default, min and max
 * are TESSERA_VM_SIZE(W, H) pairs. A WORD setting is a uint64_t index into
 * its words, TESSERA_VM_WORDS_<field>; a PATH setting a char array. default 0 means "not set": the consumer
 * decides (display-size: from the compositor's output).
 */
/* The words of WORD settings; their index is the value. */
#define TESSERA_VM_WORDS_gpu "auto", "virgl", "off"
#define TESSERA_VM_WORDS_clipboard "copy,paste", "copy", "paste", "none"
/* The clipboard words' indexes. */
enum tessera_vm_clipboard_policy {
	TESSERA_VM_CLIPBOARD_COPY_PASTE = 0,
	TESSERA_VM_CLIPBOARD_COPY = 1,
	TESSERA_VM_CLIPBOARD_PASTE = 2,
	TESSERA_VM_CLIPBOARD_NONE = 3,
};

#define TESSERA_VM_SETTINGS(X) \
	X(display_size, "display-size", SIZE, 0, TESSERA_VM_SIZE(320, 200), \
		TESSERA_VM_SIZE(TESSERA_VM_MAX_DISPLAY_SIZE, \
		TESSERA_VM_MAX_DISPLAY_SIZE), "mode of the VM's display (default: " \
		"the compositor's output less a margin, else 1024x768)") \
	X(scale, "scale", COUNT, 0, 1, TESSERA_VM_MAX_SCALE, "scale of the outputs " \
		"guest clients see (default: each host output's)") \
	X(max_resources, "max-resources", COUNT, 4096, 1, UINT64_C(1) << 20, \
		"live virtio-gpu resources") \
	X(max_resource_size, "max-resource-size", BYTES, UINT64_C(256) << 20, 1, \
		UINT64_C(4) << 30, "bytes of one resource") \
	X(max_backing, "max-backing", BYTES, UINT64_C(2) << 30, 1, UINT64_C(1) << 40, \
		"attached backing of all resources") \
	X(max_backing_entries, "max-backing-entries", COUNT, 16384, 1, \
		TESSERA_VM_MAX_BACKING_ENTRIES, \
		"entries of one ATTACH_BACKING") \
	X(max_total_entries, "max-total-entries", COUNT, 262144, 1, \
		UINT64_C(1) << 24, "attached entries of all resources") \
	X(max_contexts, "max-contexts", COUNT, 64, 1, 4096, "3D contexts") \
	X(max_surfaces, "max-surfaces", COUNT, TESSERA_WIRE_MAX_SURFACES, 1, \
		TESSERA_WIRE_MAX_SURFACES, \
		"wire protocol surfaces") \
	X(max_buffers, "max-buffers", COUNT, TESSERA_WIRE_MAX_BUFFERS, 1, \
		TESSERA_WIRE_MAX_BUFFERS, \
		"wire protocol buffers") \
	X(max_buffer_bytes, "max-buffer-bytes", BYTES, UINT64_C(1) << 30, 1, \
		UINT64_C(1) << 40, "bytes of live wire protocol buffers") \
	X(max_batch_size, "max-batch-size", BYTES, TESSERA_WIRE_MAX_BATCH_SIZE, 1, \
		TESSERA_WIRE_MAX_BATCH_SIZE, \
		"bytes of one SUBMIT_3D payload") \
	X(max_commit_rate, "max-commit-rate", COUNT, 6000, 60, 1000000, \
		"surface commits per second (above it the guest waits)") \
	X(gpu, "gpu", WORD, 0, 0, 2, "GPU acceleration of the guest's Mesa with " \
		"virglrenderer: auto (when it initialises), virgl (required) or off") \
	X(render_node, "render-node", PATH, 0, 0, 0, "DRM render node for the " \
		"host's GL (default: the first present, else EGL surfaceless)") \
	X(clipboard, "clipboard", WORD, 0, 0, 3, "what the user may move between " \
		"this VM and tessera's clipboard (Ctrl+Shift+C/V, tesseractl " \
		"clipboard): copy,paste, copy (out of the VM), paste (into it) or none") \
	X(clipboard_max, "clipboard-max", BYTES, UINT64_C(16) << 20, 1, \
		TESSERA_WIRE_MAX_CLIPBOARD_SIZE, "bytes of one clipboard transfer " \
		"to or from the VM (more is cut off with an error)")

#define TESSERA_VM_SETTING_FIELD_COUNT(field, key, syntax, def, min, max, help) \
	uint64_t field;
#define TESSERA_VM_SETTING_FIELD_BYTES TESSERA_VM_SETTING_FIELD_COUNT
#define TESSERA_VM_SETTING_FIELD_WORD TESSERA_VM_SETTING_FIELD_COUNT
#define TESSERA_VM_SETTING_FIELD_PATH(field, key, syntax, def, min, max, help) \
	char field[TESSERA_VM_SETTING_VALUE_MAX + 1];
#define TESSERA_VM_SETTING_FIELD_SIZE(field, key, syntax, def, min, max, help) \
	uint32_t field##_width, field##_height;
#define TESSERA_VM_SETTING_FIELD(field, key, syntax, def, min, max, help) \
	TESSERA_VM_SETTING_FIELD_##syntax(field, key, syntax, def, min, max, help)

struct tessera_vm_settings {
	TESSERA_VM_SETTINGS(TESSERA_VM_SETTING_FIELD)
};

#define TESSERA_VM_SETTING_ENUM(field, key, syntax, def, min, max, help) \
	TESSERA_VM_SETTING_##field,
enum tessera_vm_setting_id {
	TESSERA_VM_SETTINGS(TESSERA_VM_SETTING_ENUM)
	TESSERA_VM_SETTING_ID_COUNT,
};


struct tessera_vm_setting {
	enum tessera_vm_setting_id id;
	const char *key; /* config key and option name without "--" */
	enum tessera_vm_setting_syntax syntax;
	uint64_t def, min, max;
	const char *help;
	const char *const *words; /* WORD: its words, NULL-terminated */
};

/* The setting of that id (0 .. TESSERA_VM_SETTING_ID_COUNT - 1). */
const struct tessera_vm_setting *tessera_vm_setting_get(enum tessera_vm_setting_id id);
/* The setting with that key, or NULL. */
const struct tessera_vm_setting *tessera_vm_setting_find(const char *key);

void tessera_vm_settings_default(struct tessera_vm_settings *settings);

/*
 * Parses value into settings' field of setting. On a bad value returns
 * false and writes why into err ("expected a positive number",
 * "at most 1024", ...): the caller names the key and the place.
 */
bool tessera_vm_setting_parse(const struct tessera_vm_setting *setting,
	const char *value, struct tessera_vm_settings *settings,
	char *err, size_t err_size);

/*
 * Parses a value of syntax (a positive number, BYTES with an optional K, M
 * or G suffix, WxH as W << 32 | H) without a range check; false if it does
 * not have that syntax. Also for keys outside the table (tessera's memory).
 */
bool tessera_vm_value_parse(enum tessera_vm_setting_syntax syntax,
	const char *value, uint64_t *out);

/* The option lines of every setting, for a --help text. */
void tessera_vm_settings_print_usage(FILE *out);

#endif
