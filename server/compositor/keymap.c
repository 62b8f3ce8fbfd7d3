/*
 * Per-VM keyboard layouts: the RMLVO names of a [vm NAME] section,
 * checked against the xkb registry (libxkbregistry: the models, layouts,
 * variants and options xkeyboard-config describes) and compiled with
 * xkbcommon. config.c checks them when it loads the file, seat.c compiles
 * the keymap a VM's windows get. Logs nothing: errors go back as text.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <xkbcommon/xkbcommon.h>
#include <xkbcommon/xkbregistry.h>

#include "keymap.h"

#define KEYMAP_RULES "evdev" /* xkbcommon's default rules */
#define KEYMAP_MAX_LAYOUTS 4 /* XKB groups */

static const char *const part_keys[TESSERA_KEYMAP_PART_COUNT] = {
	[TESSERA_KEYMAP_MODEL] = "keyboard-model",
	[TESSERA_KEYMAP_LAYOUT] = "keyboard-layout",
	[TESSERA_KEYMAP_VARIANT] = "keyboard-variant",
	[TESSERA_KEYMAP_OPTIONS] = "keyboard-options",
};

bool tessera_keymap_part_find(const char *key, enum tessera_keymap_part *part) {
	for (int i = 0; i < TESSERA_KEYMAP_PART_COUNT; i++) {
		if (strcmp(key, part_keys[i]) == 0) {
			*part = (enum tessera_keymap_part)i;
			return true;
		}
	}
	return false;
}

const char *tessera_keymap_part_key(enum tessera_keymap_part part) {
	return part >= 0 && part < TESSERA_KEYMAP_PART_COUNT ? part_keys[part] : "";
}

bool tessera_keymap_names_empty(const struct tessera_keymap_names *names) {
	for (int i = 0; i < TESSERA_KEYMAP_PART_COUNT; i++) {
		if (names->part[i][0] != '\0') {
			return false;
		}
	}
	return true;
}

static bool is_name_char(char c) {
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' ||
		c == ':' || c == '+' || c == ',';
}

bool tessera_keymap_check_value(const char *value, char *err, size_t err_size) {
	size_t len = strlen(value);
	if (len == 0) {
		snprintf(err, err_size, "empty");
		return false;
	}
	if (len > TESSERA_KEYMAP_NAME_MAX) {
		snprintf(err, err_size, "%zu characters, limit %d", len,
			TESSERA_KEYMAP_NAME_MAX);
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		if (!is_name_char(value[i])) {
			snprintf(err, err_size, "allowed characters: A-Z a-z 0-9 _ - . : + ,");
			return false;
		}
	}
	return true;
}

/*
 * The index-th entry of a comma-separated list into out ("" past its
 * end); false if it does not fit.
 */
static bool list_entry(const char *list, int index, char *out, size_t out_size) {
	const char *start = list;
	for (int i = 0; i < index && start != NULL; i++) {
		start = strchr(start, ',');
		start = start != NULL ? start + 1 : NULL;
	}
	out[0] = '\0';
	if (start == NULL) {
		return true;
	}
	const char *end = strchr(start, ',');
	size_t len = end != NULL ? (size_t)(end - start) : strlen(start);
	if (len >= out_size) {
		return false;
	}
	memcpy(out, start, len);
	out[len] = '\0';
	return true;
}

static int list_length(const char *list) {
	if (list[0] == '\0') {
		return 0;
	}
	int n = 1;
	for (const char *c = list; *c != '\0'; c++) {
		n += *c == ',';
	}
	return n;
}

static bool registry_has_model(struct rxkb_context *registry, const char *name) {
	for (struct rxkb_model *m = rxkb_model_first(registry); m != NULL;
			m = rxkb_model_next(m)) {
		if (strcmp(rxkb_model_get_name(m), name) == 0) {
			return true;
		}
	}
	return false;
}

/* variant "" is the layout itself */
static bool registry_has_layout(struct rxkb_context *registry, const char *name,
		const char *variant) {
	for (struct rxkb_layout *l = rxkb_layout_first(registry); l != NULL;
			l = rxkb_layout_next(l)) {
		const char *v = rxkb_layout_get_variant(l);
		if (strcmp(rxkb_layout_get_name(l), name) == 0 &&
				strcmp(v != NULL ? v : "", variant) == 0) {
			return true;
		}
	}
	return false;
}

static bool registry_has_option(struct rxkb_context *registry, const char *name) {
	for (struct rxkb_option_group *g = rxkb_option_group_first(registry);
			g != NULL; g = rxkb_option_group_next(g)) {
		for (struct rxkb_option *o = rxkb_option_first(g); o != NULL;
				o = rxkb_option_next(o)) {
			if (strcmp(rxkb_option_get_name(o), name) == 0) {
				return true;
			}
		}
	}
	return false;
}

static bool check_layouts(struct rxkb_context *registry,
		const struct tessera_keymap_names *names, enum tessera_keymap_part *bad,
		char *err, size_t err_size) {
	const char *layouts = names->part[TESSERA_KEYMAP_LAYOUT];
	const char *variants = names->part[TESSERA_KEYMAP_VARIANT];
	int count = list_length(layouts);
	if (count > KEYMAP_MAX_LAYOUTS) {
		*bad = TESSERA_KEYMAP_LAYOUT;
		snprintf(err, err_size, "more than %d layouts", KEYMAP_MAX_LAYOUTS);
		return false;
	}
	int variant_count = list_length(variants);
	if (variant_count > 0 && count == 0) {
		*bad = TESSERA_KEYMAP_VARIANT;
		snprintf(err, err_size, "a variant needs a keyboard-layout");
		return false;
	}
	/* xkbcommon ignores a variant list of another length */
	if (variant_count > 0 && variant_count != count) {
		*bad = TESSERA_KEYMAP_VARIANT;
		snprintf(err, err_size, "expected one variant per layout, %d in all "
			"(empty for a layout's default)", count);
		return false;
	}
	for (int i = 0; i < count; i++) {
		char layout[TESSERA_KEYMAP_NAME_MAX + 1], variant[TESSERA_KEYMAP_NAME_MAX + 1];
		list_entry(layouts, i, layout, sizeof(layout));
		list_entry(variants, i, variant, sizeof(variant));
		if (!registry_has_layout(registry, layout, "")) {
			*bad = TESSERA_KEYMAP_LAYOUT;
			snprintf(err, err_size, "unknown layout '%s'", layout);
			return false;
		}
		if (!registry_has_layout(registry, layout, variant)) {
			*bad = TESSERA_KEYMAP_VARIANT;
			snprintf(err, err_size, "layout '%s' has no variant '%s'",
				layout, variant);
			return false;
		}
	}
	return true;
}

static bool check_registry(const struct tessera_keymap_names *names,
		enum tessera_keymap_part *bad, char *err, size_t err_size) {
	struct rxkb_context *registry = rxkb_context_new(RXKB_CONTEXT_LOAD_EXOTIC_RULES);
	if (registry == NULL || !rxkb_context_parse(registry, KEYMAP_RULES)) {
		rxkb_context_unref(registry);
		*bad = TESSERA_KEYMAP_LAYOUT;
		snprintf(err, err_size, "cannot read the xkb registry of rules '%s' "
			"(is xkb-data installed?)", KEYMAP_RULES);
		return false;
	}
	bool ok = true;
	const char *model = names->part[TESSERA_KEYMAP_MODEL];
	if (model[0] != '\0' && !registry_has_model(registry, model)) {
		*bad = TESSERA_KEYMAP_MODEL;
		snprintf(err, err_size, "unknown model '%s'", model);
		ok = false;
	}
	ok = ok && check_layouts(registry, names, bad, err, err_size);
	const char *options = names->part[TESSERA_KEYMAP_OPTIONS];
	for (int i = 0; ok && i < list_length(options); i++) {
		char option[TESSERA_KEYMAP_NAME_MAX + 1];
		list_entry(options, i, option, sizeof(option));
		if (!registry_has_option(registry, option)) {
			*bad = TESSERA_KEYMAP_OPTIONS;
			snprintf(err, err_size, "unknown option '%s'", option);
			ok = false;
		}
	}
	rxkb_context_unref(registry);
	return ok;
}

struct compile_log {
	char *err;
	size_t err_size;
	bool failed;
};

/* Keeps xkbcommon's first error, without its line end. */
static void compile_log_fn(struct xkb_context *context, enum xkb_log_level level,
		const char *format, va_list args) {
	struct compile_log *log = xkb_context_get_user_data(context);
	if (log == NULL || level > XKB_LOG_LEVEL_ERROR || log->failed) {
		return;
	}
	log->failed = true;
	if (log->err_size == 0) {
		return;
	}
	vsnprintf(log->err, log->err_size, format, args);
	log->err[strcspn(log->err, "\n")] = '\0';
}

static const char *name_or_null(const char *name) {
	return name[0] != '\0' ? name : NULL;
}

struct xkb_keymap *tessera_keymap_compile(const struct tessera_keymap_names *names,
		char *err, size_t err_size) {
	struct compile_log log = { .err = err, .err_size = err_size };
	if (err_size > 0) {
		err[0] = '\0';
	}
	struct xkb_context *context = xkb_context_new(XKB_CONTEXT_NO_FLAGS);
	if (context == NULL) {
		snprintf(err, err_size, "cannot create an xkb context");
		return NULL;
	}
	xkb_context_set_user_data(context, &log);
	xkb_context_set_log_fn(context, compile_log_fn);
	xkb_context_set_log_level(context, XKB_LOG_LEVEL_ERROR);
	const struct xkb_rule_names rmlvo = {
		.rules = KEYMAP_RULES,
		.model = name_or_null(names->part[TESSERA_KEYMAP_MODEL]),
		.layout = name_or_null(names->part[TESSERA_KEYMAP_LAYOUT]),
		.variant = name_or_null(names->part[TESSERA_KEYMAP_VARIANT]),
		.options = name_or_null(names->part[TESSERA_KEYMAP_OPTIONS]),
	};
	struct xkb_keymap *keymap =
		xkb_keymap_new_from_names(context, &rmlvo, XKB_KEYMAP_COMPILE_NO_FLAGS);
	/* the keymap keeps the context: later messages are not ours */
	xkb_context_set_user_data(context, NULL);
	xkb_context_unref(context);
	if (keymap != NULL && log.failed) {
		xkb_keymap_unref(keymap);
		keymap = NULL;
	}
	if (keymap == NULL && !log.failed) {
		snprintf(err, err_size, "xkbcommon gave no reason");
	}
	return keymap;
}

bool tessera_keymap_check(const struct tessera_keymap_names *names,
		enum tessera_keymap_part *bad, char *err, size_t err_size) {
	if (!check_registry(names, bad, err, err_size)) {
		return false;
	}
	char why[256];
	struct xkb_keymap *keymap = tessera_keymap_compile(names, why, sizeof(why));
	if (keymap == NULL) {
		*bad = names->part[TESSERA_KEYMAP_LAYOUT][0] != '\0' ?
			TESSERA_KEYMAP_LAYOUT : TESSERA_KEYMAP_OPTIONS;
		snprintf(err, err_size, "cannot compile the keymap: %s", why);
		return false;
	}
	xkb_keymap_unref(keymap);
	return true;
}
