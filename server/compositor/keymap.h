#ifndef TESSERA_KEYMAP_H
#define TESSERA_KEYMAP_H

#include <stdbool.h>
#include <stddef.h>

struct xkb_keymap;

/*
 * A VM's keyboard layout: the xkbcommon RMLVO names of the keys
 * keyboard-model, keyboard-layout, keyboard-variant and keyboard-options of
 * its [vm NAME] section. Empty names take the host's defaults (the
 * XKB_DEFAULT_* variables, else xkbcommon's own), as the host keymap does.
 */

#define TESSERA_KEYMAP_NAME_MAX 127 /* characters of one name list */

enum tessera_keymap_part {
	TESSERA_KEYMAP_MODEL,
	TESSERA_KEYMAP_LAYOUT,
	TESSERA_KEYMAP_VARIANT,
	TESSERA_KEYMAP_OPTIONS,
	TESSERA_KEYMAP_PART_COUNT,
};

struct tessera_keymap_names {
	char part[TESSERA_KEYMAP_PART_COUNT][TESSERA_KEYMAP_NAME_MAX + 1];
};

/* The part whose config key is key ("keyboard-layout", ...); false if none. */
bool tessera_keymap_part_find(const char *key, enum tessera_keymap_part *part);
/* "keyboard-layout", ... */
const char *tessera_keymap_part_key(enum tessera_keymap_part part);

/* No name set: the VM has the host keymap. */
bool tessera_keymap_names_empty(const struct tessera_keymap_names *names);

/*
 * Checks one value on its own (length, characters). On a bad one returns
 * false and writes why into err.
 */
bool tessera_keymap_check_value(const char *value, char *err, size_t err_size);

/*
 * Checks the names against the xkb registry (every model, layout, variant
 * and option must be known) and compiles the keymap. On failure returns
 * false, sets *bad to the part at fault and writes why into err.
 */
bool tessera_keymap_check(const struct tessera_keymap_names *names,
	enum tessera_keymap_part *bad, char *err, size_t err_size);

/*
 * The compiled keymap (unref it), or NULL with why in err. xkbcommon's
 * errors (an option it ignores among them) make it fail.
 */
struct xkb_keymap *tessera_keymap_compile(const struct tessera_keymap_names *names,
	char *err, size_t err_size);

#endif
