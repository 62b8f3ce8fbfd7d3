/*
 * Configuration file loader: INI parsed by libinih, validated here.
 *
 * libinih (Debian's r55) is built without INI_HANDLER_LINENO and without
 * INI_CALL_HANDLER_ON_NEW_SECTION, so it tells the handler neither the line
 * number nor about sections without keys. We therefore feed it through our
 * own reader, which counts lines, rejects lines inih would silently split
 * (too long), NUL bytes and invalid UTF-8, strips leading whitespace (so no
 * line is ever taken as a multi-line continuation), and handles "[...]"
 * section header lines itself. The handler runs while the line the reader
 * returned last is being parsed, so it knows the line number too.
 */
#include <errno.h>
#include <glib.h>
#include <ini.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "color.h"
#include "config.h"

/* Room for a quoted, escaped copy of anything taken from one line. */
#define ESCAPED_MAX (INI_MAX_LINE * 4 + 1)

struct config_loader {
	const char *path;
	FILE *file;
	int line; /* number of the line last returned to inih */
	bool stop; /* make the reader report end of file */

	/* The first error found by the reader or handler (inih's own syntax
	 * errors are only known once ini_parse_stream() returns). */
	bool failed;
	int error_found_at; /* line being read when it was found */
	char *err;
	size_t err_size;

	struct tessera_vm_config *vms;
	size_t vm_count, vm_cap;
	bool in_vm; /* keys go to vms[vm_count - 1] */
	bool has_color; /* of vms[vm_count - 1] */
	int keyboard_line[TESSERA_KEYMAP_PART_COUNT]; /* of vms[vm_count - 1] */
	int clipboard_keep; /* -1: not set, else 0 or 1 */
};

static void fail(struct config_loader *loader, int line, int found_at,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * Records the first error: "FILE:LINE: message", or "FILE: message" when
 * line is 0. found_at orders it against inih's syntax errors.
 */
static void fail(struct config_loader *loader, int line, int found_at,
		const char *fmt, ...) {
	if (loader->failed) {
		return;
	}
	loader->failed = true;
	loader->stop = true;
	loader->error_found_at = found_at;
	if (loader->err == NULL || loader->err_size == 0) {
		return;
	}
	int n;
	if (line > 0) {
		n = snprintf(loader->err, loader->err_size, "%s:%d: ",
			loader->path, line);
	} else {
		n = snprintf(loader->err, loader->err_size, "%s: ", loader->path);
	}
	if (n < 0 || (size_t)n >= loader->err_size) {
		return;
	}
	va_list args;
	va_start(args, fmt);
	vsnprintf(loader->err + n, loader->err_size - (size_t)n, fmt, args);
	va_end(args);
}

/* Copies s into out, control characters and DEL as \xNN. */
static const char *escape(const char *s, char out[static ESCAPED_MAX]) {
	size_t n = 0;
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f) {
			if (n + 4 >= ESCAPED_MAX) {
				break;
			}
			snprintf(out + n, 5, "\\x%02x", c);
			n += 4;
		} else {
			if (n + 1 >= ESCAPED_MAX) {
				break;
			}
			out[n++] = (char)c;
		}
	}
	out[n] = '\0';
	return out;
}

static bool is_space(char c) {
	/* isspace() in the "C" locale, as inih uses it */
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
		c == '\r';
}

static bool is_name_char(char c) {
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. */
static bool is_valid_utf8(const unsigned char *s, size_t len) {
	size_t i = 0;
	while (i < len) {
		unsigned char c = s[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		size_t extra;
		unsigned char lo = 0x80, hi = 0xbf; /* range of the 2nd byte */
		if (c >= 0xc2 && c <= 0xdf) {
			extra = 1;
		} else if (c >= 0xe0 && c <= 0xef) {
			extra = 2;
			if (c == 0xe0) {
				lo = 0xa0;
			} else if (c == 0xed) {
				hi = 0x9f;
			}
		} else if (c >= 0xf0 && c <= 0xf4) {
			extra = 3;
			if (c == 0xf0) {
				lo = 0x90;
			} else if (c == 0xf4) {
				hi = 0x8f;
			}
		} else {
			return false;
		}
		if (len - i - 1 < extra) {
			return false;
		}
		if (s[i + 1] < lo || s[i + 1] > hi) {
			return false;
		}
		for (size_t k = 2; k <= extra; k++) {
			if (s[i + k] < 0x80 || s[i + k] > 0xbf) {
				return false;
			}
		}
		i += extra + 1;
	}
	return true;
}

static struct tessera_vm_config *current_vm(struct config_loader *loader) {
	return loader->in_vm ? &loader->vms[loader->vm_count - 1] : NULL;
}

/* Checks the keyboard keys of a VM together (a variant needs its layout). */
static void check_keyboard(struct config_loader *loader,
		struct tessera_vm_config *vm, int found_at) {
	if (tessera_keymap_names_empty(&vm->keyboard)) {
		return;
	}
	enum tessera_keymap_part bad = TESSERA_KEYMAP_LAYOUT;
	char why[320];
	if (tessera_keymap_check(&vm->keyboard, &bad, why, sizeof(why))) {
		return;
	}
	int line = loader->keyboard_line[bad];
	if (line > 0) {
		fail(loader, line, found_at, "invalid %s '%s' for vm '%s' (%s)",
			tessera_keymap_part_key(bad), vm->keyboard.part[bad], vm->name, why);
	} else {
		fail(loader, vm->line, found_at, "invalid keyboard for vm '%s' (%s)",
			vm->name, why);
	}
}

static const char *const qemu_keys[] = {
#define TESSERA_QEMU_KEY_NAME(id, key) key,
	TESSERA_QEMU_KEYS(TESSERA_QEMU_KEY_NAME)
};

bool tessera_vm_config_has_qemu(const struct tessera_vm_config *vm) {
	return vm->qemu.image != NULL || vm->qemu.kernel != NULL;
}

/* Checks the VMM keys of a VM together. */
static void check_qemu(struct config_loader *loader,
		struct tessera_vm_config *vm, int found_at) {
	const int *line = vm->qemu.line;
	if (line[TESSERA_QEMU_KEY_IMAGE] > 0 && line[TESSERA_QEMU_KEY_KERNEL] > 0) {
		int later = line[TESSERA_QEMU_KEY_IMAGE] > line[TESSERA_QEMU_KEY_KERNEL] ?
			line[TESSERA_QEMU_KEY_IMAGE] : line[TESSERA_QEMU_KEY_KERNEL];
		fail(loader, later, found_at, "vm '%s' has both 'image' and 'kernel' "
			"(a disk image or a direct kernel boot, not both)", vm->name);
		return;
	}
	for (int k = 0; k < TESSERA_QEMU_KEY_COUNT; k++) {
		if (line[k] == 0 || k == TESSERA_QEMU_KEY_AUTOSTART ||
				k == TESSERA_QEMU_KEY_CONSOLE) {
			continue;
		}
		if ((k == TESSERA_QEMU_KEY_INITRD || k == TESSERA_QEMU_KEY_APPEND) &&
				line[TESSERA_QEMU_KEY_KERNEL] == 0) {
			fail(loader, line[k], found_at, "'%s' in [vm %s] needs 'kernel'",
				qemu_keys[k], vm->name);
			return;
		}
		if (!tessera_vm_config_has_qemu(vm)) {
			fail(loader, line[k], found_at, "'%s' in [vm %s] needs 'image' or "
				"'kernel' (tessera starts QEMU only for a VM with one of them)",
				qemu_keys[k], vm->name);
			return;
		}
	}
}

/* Checks that the section being left has its required keys. */
static void end_vm(struct config_loader *loader, int found_at) {
	struct tessera_vm_config *vm = current_vm(loader);
	if (vm == NULL) {
		return;
	}
	loader->in_vm = false;
	if (!loader->has_color) {
		fail(loader, vm->line, found_at, "vm '%s' has no color", vm->name);
	} else if (vm->vhost_user_path[0] == '\0') {
		fail(loader, vm->line, found_at,
			"vm '%s' has no vhost-user socket path", vm->name);
	} else {
		check_keyboard(loader, vm, found_at);
	}
	if (!loader->failed) {
		check_qemu(loader, vm, found_at);
	}
}

/* section is "vm" or "vm NAME". */
static void begin_vm(struct config_loader *loader, const char *section) {
	char esc[ESCAPED_MAX];
	int line = loader->line;
	const char *name = section[2] == '\0' ? section + 2 : section + 3;
	size_t len = strlen(name);

	if (len == 0) {
		fail(loader, line, line, "missing vm name in '[%s]' "
			"(expected [vm NAME])", section);
		return;
	}
	for (size_t i = 0; i < len; i++) {
		if (!is_name_char(name[i])) {
			fail(loader, line, line, "invalid vm name '%s' "
				"(allowed characters: A-Z a-z 0-9 _ -)",
				escape(name, esc));
			return;
		}
	}
	if (len > TESSERA_VM_NAME_MAX) {
		fail(loader, line, line, "vm name '%s' too long (limit %d characters)",
			name, TESSERA_VM_NAME_MAX);
		return;
	}
	for (size_t i = 0; i < loader->vm_count; i++) {
		if (strcmp(loader->vms[i].name, name) == 0) {
			fail(loader, line, line,
				"duplicate vm '%s' (first defined at line %d)",
				name, loader->vms[i].line);
			return;
		}
	}
	if (loader->vm_count >= TESSERA_CONFIG_MAX_VMS) {
		fail(loader, line, line, "too many vms (limit %d)",
			TESSERA_CONFIG_MAX_VMS);
		return;
	}
	if (loader->vm_count == loader->vm_cap) {
		size_t cap = loader->vm_cap == 0 ? 4 : loader->vm_cap * 2;
		if (cap > TESSERA_CONFIG_MAX_VMS) {
			cap = TESSERA_CONFIG_MAX_VMS;
		}
		struct tessera_vm_config *vms =
			realloc(loader->vms, cap * sizeof(*vms));
		if (vms == NULL) {
			fail(loader, 0, line, "out of memory");
			return;
		}
		loader->vms = vms;
		loader->vm_cap = cap;
	}
	struct tessera_vm_config *vm = &loader->vms[loader->vm_count++];
	memset(vm, 0, sizeof(*vm));
	memcpy(vm->name, name, len + 1);
	vm->line = line;
	vm->qemu.memory = TESSERA_QEMU_MEMORY_DEFAULT;
	vm->qemu.cpus = 1;
	vm->qemu.autostart = true;
	vm->qemu.shutdown_timeout = TESSERA_QEMU_SHUTDOWN_TIMEOUT_DEFAULT;
	loader->in_vm = true;
	loader->has_color = false;
	memset(loader->keyboard_line, 0, sizeof(loader->keyboard_line));
}

/*
 * A line starting with '[' (leading whitespace already stripped). inih
 * finds the closing ']' the same way (stopping at an inline ';' comment
 * preceded by whitespace); when there is none it reports a syntax error
 * itself and so do we, by leaving the line alone.
 */
static void handle_section_line(struct config_loader *loader, char *s) {
	char esc[ESCAPED_MAX];
	int line = loader->line;
	char *end = s + 1;
	bool was_space = false;
	while (*end != '\0' && *end != ']' && !(was_space && *end == ';')) {
		was_space = is_space(*end);
		end++;
	}
	if (*end != ']') {
		return;
	}

	/* inih ignores whatever follows ']'; we allow only a comment. */
	const char *rest = end + 1;
	while (is_space(*rest)) {
		rest++;
	}
	if (*rest != '\0' && *rest != ';' && *rest != '#') {
		fail(loader, line, line, "unexpected text after section header: "
			"'%s'", escape(s, esc));
		return;
	}

	end_vm(loader, line);
	if (loader->failed) {
		return;
	}

	/* Parse a copy: inih still needs the line as it is. */
	char section[INI_MAX_LINE];
	size_t len = (size_t)(end - (s + 1));
	if (len >= sizeof(section)) {
		len = sizeof(section) - 1; /* can't happen: lines are shorter */
	}
	memcpy(section, s + 1, len);
	section[len] = '\0';

	if (strcmp(section, "vm") == 0 || strncmp(section, "vm ", 3) == 0) {
		begin_vm(loader, section);
	} else {
		fail(loader, line, line, "unknown section '[%s]'",
			escape(section, esc));
	}
}

/* fgets()-like reader for ini_parse_stream(); see the top of this file. */
static char *config_reader(char *str, int num, void *stream) {
	struct config_loader *loader = stream;
	if (loader->stop || num < 2) {
		return NULL;
	}
	size_t limit = (size_t)num - 1;
	size_t len = 0; /* bytes before '\n' (may exceed limit) */
	bool has_nul = false;
	int last = 0, c;
	while ((c = getc(loader->file)) != EOF && c != '\n') {
		if (c == '\0') {
			has_nul = true;
		}
		if (len < limit) {
			str[len] = (char)c;
		}
		if (len <= limit + 1) {
			len++; /* saturates: limit + 1 is "too long" even after CR */
		}
		last = c;
	}
	if (c == EOF) {
		if (ferror(loader->file)) {
			fail(loader, 0, loader->line + 1, "cannot read: %s",
				strerror(errno));
			return NULL;
		}
		if (len == 0) {
			return NULL; /* end of file */
		}
	}
	if (loader->line == INT_MAX) {
		fail(loader, 0, loader->line, "too many lines");
		return NULL;
	}
	int line = ++loader->line;

	if (last == '\r') {
		len--; /* CRLF line end */
	}
	if (len > limit) {
		fail(loader, line, line, "line too long (limit %zu characters)",
			limit);
		return NULL;
	}
	str[len] = '\0';
	if (has_nul) {
		fail(loader, line, line, "NUL byte in line");
		return NULL;
	}
	if (!is_valid_utf8((const unsigned char *)str, len)) {
		fail(loader, line, line, "invalid UTF-8");
		return NULL;
	}

	/* Strip a BOM and leading whitespace: an indented line is then never
	 * taken by inih as the continuation of the previous line's value. */
	char *s = str;
	if (line == 1 && len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) {
		s += 3;
	}
	while (is_space(*s)) {
		s++;
	}
	memmove(str, s, strlen(s) + 1);

	if (str[0] == '[') {
		handle_section_line(loader, str);
		if (loader->failed) {
			return NULL;
		}
	}
	return str;
}

/* Checks a path value; returns false after reporting the problem. */
static bool check_path_max(struct config_loader *loader,
		struct tessera_vm_config *vm, const char *key, const char *value,
		size_t max) {
	char esc[ESCAPED_MAX];
	int line = loader->line;
	size_t len = strlen(value);
	if (len == 0) {
		fail(loader, line, line, "empty value for '%s' in [vm %s]",
			key, vm->name);
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)value[i];
		if (c < 0x20 || c == 0x7f) {
			fail(loader, line, line, "control character in %s path '%s' "
				"for vm '%s'", key, escape(value, esc), vm->name);
			return false;
		}
	}
	if (len > max) {
		fail(loader, line, line, "%s path too long for vm '%s' "
			"(%zu bytes, limit %zu)", key, vm->name, len, max);
		return false;
	}
	return true;
}

static bool check_path(struct config_loader *loader,
		struct tessera_vm_config *vm, const char *key, const char *value) {
	return check_path_max(loader, vm, key, value, TESSERA_CONFIG_PATH_MAX);
}

static void set_color(struct config_loader *loader,
		struct tessera_vm_config *vm, const char *value) {
	char esc[ESCAPED_MAX];
	int line = loader->line;
	if (value[0] == '\0') {
		fail(loader, line, line, "empty value for 'color' in [vm %s]",
			vm->name);
		return;
	}
	/* the file wants the '#' (tessera_color_parse takes it as optional) */
	if (value[0] != '#' || !tessera_color_parse(value, &vm->color)) {
		fail(loader, line, line, "invalid color '%s' for vm '%s' "
			"(expected #RRGGBB)", escape(value, esc), vm->name);
		return;
	}
	loader->has_color = true;
}

static void set_vhost_user(struct config_loader *loader,
		struct tessera_vm_config *vm, const char *value) {
	if (!check_path(loader, vm, "vhost-user", value)) {
		return;
	}
	for (size_t i = 0; i < loader->vm_count; i++) {
		const struct tessera_vm_config *other = &loader->vms[i];
		if (other != vm && strcmp(other->vhost_user_path, value) == 0) {
			fail(loader, loader->line, loader->line,
				"vm '%s' uses vhost-user path '%s' "
				"already used by vm '%s' (line %d)",
				vm->name, value, other->name, other->line);
			return;
		}
	}
	memcpy(vm->vhost_user_path, value, strlen(value) + 1);
}

static void set_vmd(struct config_loader *loader,
		struct tessera_vm_config *vm, const char *value) {
	if (!check_path(loader, vm, "vmd", value)) {
		return;
	}
	vm->vmd_path = strdup(value);
	if (vm->vmd_path == NULL) {
		fail(loader, 0, loader->line, "out of memory");
	}
}

static void set_vm_setting(struct config_loader *loader,
		struct tessera_vm_config *vm, const struct tessera_vm_setting *setting,
		const char *value) {
	char esc[ESCAPED_MAX];
	char why[96];
	struct tessera_vm_settings parsed;
	if (!tessera_vm_setting_parse(setting, value, &parsed, why, sizeof(why))) {
		fail(loader, loader->line, loader->line, "invalid %s '%s' for vm '%s' "
			"(%s)", setting->key, escape(value, esc), vm->name, why);
		return;
	}
	memcpy(vm->settings[setting->id], value, strlen(value) + 1);
}

/* One keyboard key; the names are checked together at the end of the section. */
static void set_keyboard(struct config_loader *loader,
		struct tessera_vm_config *vm, enum tessera_keymap_part part,
		const char *value) {
	char esc[ESCAPED_MAX];
	char why[96];
	if (value[0] == '\0') {
		fail(loader, loader->line, loader->line, "empty value for '%s' in [vm %s]",
			tessera_keymap_part_key(part), vm->name);
		return;
	}
	if (!tessera_keymap_check_value(value, why, sizeof(why))) {
		fail(loader, loader->line, loader->line, "invalid %s '%s' for vm '%s' "
			"(%s)", tessera_keymap_part_key(part), escape(value, esc),
			vm->name, why);
		return;
	}
	memcpy(vm->keyboard.part[part], value, strlen(value) + 1);
	loader->keyboard_line[part] = loader->line;
}

/* Looks value up in names (NULL-terminated); its index, or -1 after
 * reporting what was expected. */
static int choose(struct config_loader *loader, struct tessera_vm_config *vm,
		const char *key, const char *value, const char *const names[],
		const char *expected) {
	char esc[ESCAPED_MAX];
	for (int i = 0; names[i] != NULL; i++) {
		if (strcmp(value, names[i]) == 0) {
			return i;
		}
	}
	fail(loader, loader->line, loader->line, "invalid %s '%s' for vm '%s' "
		"(expected %s)", key, escape(value, esc), vm->name, expected);
	return -1;
}

static bool set_string(struct config_loader *loader, char **field, const char *value) {
	*field = strdup(value);
	if (*field == NULL) {
		fail(loader, 0, loader->line, "out of memory");
		return false;
	}
	return true;
}

static void set_count(struct config_loader *loader, struct tessera_vm_config *vm,
		const char *key, const char *value, uint64_t min, uint64_t max,
		unsigned int *field) {
	char esc[ESCAPED_MAX];
	uint64_t v;
	if (!tessera_vm_value_parse(TESSERA_VM_SETTING_COUNT, value, &v) ||
			v < min || v > max) {
		fail(loader, loader->line, loader->line, "invalid %s '%s' for vm '%s' "
			"(expected %" PRIu64 " to %" PRIu64 ")", key, escape(value, esc),
			vm->name, min, max);
		return;
	}
	*field = (unsigned int)v;
}

/* One key about the VMM (TESSERA_QEMU_KEYS); value is not empty. */
static void set_qemu_key(struct config_loader *loader, struct tessera_vm_config *vm,
		enum tessera_qemu_key key, const char *value) {
	char esc[ESCAPED_MAX];
	struct tessera_vm_qemu_config *q = &vm->qemu;
	const char *name = qemu_keys[key];
	static const char *const yes_no[] = { "no", "yes", NULL };
	static const char *const accels[] = { "auto", "kvm", "tcg", NULL };
	static const char *const restarts[] = { "on-failure", "no", NULL };
	static const char *const consoles[] = { "auto", "show", "hide", NULL };
	int i;
	uint64_t v;
	switch (key) {
	case TESSERA_QEMU_KEY_IMAGE:
	case TESSERA_QEMU_KEY_KERNEL:
	case TESSERA_QEMU_KEY_INITRD:
	case TESSERA_QEMU_KEY_QEMU:
		if (check_path_max(loader, vm, name, value, PATH_MAX - 1)) {
			char **field = key == TESSERA_QEMU_KEY_IMAGE ? &q->image :
				key == TESSERA_QEMU_KEY_KERNEL ? &q->kernel :
				key == TESSERA_QEMU_KEY_INITRD ? &q->initrd : &q->qemu;
			set_string(loader, field, value);
		}
		break;
	case TESSERA_QEMU_KEY_APPEND:
		set_string(loader, &q->append, value);
		break;
	case TESSERA_QEMU_KEY_MEMORY:
		if (!tessera_vm_value_parse(TESSERA_VM_SETTING_BYTES, value, &v)) {
			fail(loader, loader->line, loader->line, "invalid memory '%s' for vm "
				"'%s' (expected a size with a K, M or G suffix, as 2G)",
				escape(value, esc), vm->name);
		} else if (v < TESSERA_QEMU_MEMORY_MIN || v > TESSERA_QEMU_MEMORY_MAX) {
			fail(loader, loader->line, loader->line, "memory '%s' for vm '%s' out "
				"of range (expected 128M to 1024G: a guest needs at least 128M)",
				value, vm->name);
		} else if (v % (UINT64_C(1) << 20) != 0) {
			fail(loader, loader->line, loader->line, "memory '%s' for vm '%s' is "
				"not a whole number of megabytes", value, vm->name);
		} else {
			q->memory = v;
		}
		break;
	case TESSERA_QEMU_KEY_CPUS:
		set_count(loader, vm, name, value, 1, TESSERA_QEMU_CPUS_MAX, &q->cpus);
		break;
	case TESSERA_QEMU_KEY_SHUTDOWN_TIMEOUT:
		set_count(loader, vm, name, value, 1, TESSERA_QEMU_SHUTDOWN_TIMEOUT_MAX,
			&q->shutdown_timeout);
		break;
	case TESSERA_QEMU_KEY_ACCEL:
		if ((i = choose(loader, vm, name, value, accels, "auto, kvm or tcg")) >= 0) {
			q->accel = (enum tessera_vm_accel)i;
		}
		break;
	case TESSERA_QEMU_KEY_AUTOSTART:
		if ((i = choose(loader, vm, name, value, yes_no, "yes or no")) >= 0) {
			q->autostart = i == 1;
		}
		break;
	case TESSERA_QEMU_KEY_RESTART:
		if ((i = choose(loader, vm, name, value, restarts, "no or on-failure")) >= 0) {
			q->restart = (enum tessera_vm_restart)i;
		}
		break;
	case TESSERA_QEMU_KEY_CONSOLE:
		if ((i = choose(loader, vm, name, value, consoles, "auto, show or hide")) >= 0) {
			q->console = (enum tessera_vm_console)i;
		}
		break;
	case TESSERA_QEMU_KEY_QEMU_ARGS:;
		GError *error = NULL;
		int argc = 0;
		if (!g_shell_parse_argv(value, &argc, &q->args, &error)) {
			fail(loader, loader->line, loader->line, "invalid qemu-args for vm "
				"'%s' (%s)", vm->name, error->message);
			g_error_free(error);
			q->args = NULL;
		} else if (argc > TESSERA_QEMU_ARGS_MAX) {
			fail(loader, loader->line, loader->line, "too many qemu-args for vm "
				"'%s' (%d, limit %d)", vm->name, argc, TESSERA_QEMU_ARGS_MAX);
		}
		break;
	case TESSERA_QEMU_KEY_COUNT:
		break;
	}
	if (!loader->failed) {
		q->line[key] = loader->line;
	}
}

static bool find_qemu_key(const char *name, enum tessera_qemu_key *key) {
	for (int k = 0; k < TESSERA_QEMU_KEY_COUNT; k++) {
		if (strcmp(name, qemu_keys[k]) == 0) {
			*key = (enum tessera_qemu_key)k;
			return true;
		}
	}
	return false;
}

static int config_handler(void *user, const char *section, const char *name,
		const char *value) {
	struct config_loader *loader = user;
	char esc[ESCAPED_MAX];
	int line = loader->line;
	if (loader->failed) {
		return 0;
	}

	struct tessera_vm_config *vm = current_vm(loader);
	if (vm == NULL && section[0] == '\0' && strcmp(name, "clipboard-keep") == 0) {
		/* the global keys, before the first section */
		if (loader->clipboard_keep >= 0) {
			fail(loader, line, line, "duplicate key 'clipboard-keep'");
		} else if (strcmp(value, "yes") == 0 || strcmp(value, "no") == 0) {
			loader->clipboard_keep = strcmp(value, "yes") == 0;
		} else {
			fail(loader, line, line, "invalid clipboard-keep '%s' (expected yes "
				"or no)", escape(value, esc));
		}
		return !loader->failed;
	}
	if (vm == NULL) {
		fail(loader, line, line, "key '%s' outside a [vm NAME] section",
			escape(name, esc));
		return 0;
	}

	bool duplicate = false;
	enum tessera_keymap_part part;
	enum tessera_qemu_key qemu_key;
	if (strcmp(name, "color") == 0) {
		duplicate = loader->has_color;
		if (!duplicate) {
			set_color(loader, vm, value);
		}
	} else if (strcmp(name, "vhost-user") == 0) {
		duplicate = vm->vhost_user_path[0] != '\0';
		if (!duplicate) {
			set_vhost_user(loader, vm, value);
		}
	} else if (strcmp(name, "vmd") == 0) {
		duplicate = vm->vmd_path != NULL;
		if (!duplicate) {
			set_vmd(loader, vm, value);
		}
	} else if (tessera_keymap_part_find(name, &part)) {
		duplicate = vm->keyboard.part[part][0] != '\0';
		if (!duplicate) {
			set_keyboard(loader, vm, part, value);
		}
	} else if (find_qemu_key(name, &qemu_key)) {
		duplicate = vm->qemu.line[qemu_key] != 0;
		if (!duplicate && value[0] == '\0') {
			fail(loader, line, line, "empty value for '%s' in [vm %s]",
				name, vm->name);
		} else if (!duplicate) {
			set_qemu_key(loader, vm, qemu_key, value);
		}
	} else if (tessera_vm_setting_find(name) != NULL) {
		const struct tessera_vm_setting *setting = tessera_vm_setting_find(name);
		duplicate = vm->settings[setting->id][0] != '\0';
		if (!duplicate) {
			set_vm_setting(loader, vm, setting, value);
		}
	} else {
		fail(loader, line, line, "unknown key '%s' in [vm %s]",
			escape(name, esc), vm->name);
	}
	if (duplicate) {
		fail(loader, line, line, "duplicate key '%s' in [vm %s]",
			name, vm->name);
	}
	return loader->failed ? 0 : 1;
}

static void free_vms(struct tessera_vm_config *vms, size_t count) {
	for (size_t i = 0; i < count; i++) {
		struct tessera_vm_qemu_config *q = &vms[i].qemu;
		free(vms[i].vmd_path);
		free(q->image);
		free(q->kernel);
		free(q->initrd);
		free(q->append);
		free(q->qemu);
		free(q->qemu_path);
		g_strfreev(q->args);
	}
	free(vms);
}

bool tessera_config_load(struct tessera_config *config, const char *path,
		char *err, size_t err_size) {
	if (err != NULL && err_size > 0) {
		err[0] = '\0';
	}
	if (config == NULL) {
		return false;
	}
	memset(config, 0, sizeof(*config));
	if (path == NULL) {
		if (err != NULL && err_size > 0) {
			snprintf(err, err_size, "no configuration file given");
		}
		return false;
	}

	struct config_loader loader = {
		.path = path,
		.err = err,
		.err_size = err_size,
		.clipboard_keep = -1,
	};
	loader.file = fopen(path, "re");
	if (loader.file == NULL) {
		fail(&loader, 0, 0, "cannot open: %s", strerror(errno));
		return false;
	}
	int syntax_error = ini_parse_stream(config_reader, &loader,
		config_handler, &loader);
	fclose(loader.file);
	if (!loader.failed) {
		end_vm(&loader, loader.line + 1);
	}

	if (syntax_error > 0 && (!loader.failed ||
			syntax_error < loader.error_found_at)) {
		/* inih found a malformed line before we found anything */
		loader.failed = false;
		fail(&loader, syntax_error, syntax_error, "syntax error");
	} else if (syntax_error < 0 && !loader.failed) {
		fail(&loader, 0, 0, "out of memory");
	}
	if (loader.failed) {
		free_vms(loader.vms, loader.vm_count);
		return false;
	}

	config->path = strdup(path);
	if (config->path == NULL) {
		free_vms(loader.vms, loader.vm_count);
		fail(&loader, 0, 0, "out of memory");
		return false;
	}
	config->vms = loader.vms;
	config->vm_count = loader.vm_count;
	config->clipboard_keep = loader.clipboard_keep == 1;
	return true;
}

void tessera_config_finish(struct tessera_config *config) {
	if (config == NULL) {
		return;
	}
	free_vms(config->vms, config->vm_count);
	free(config->path);
	memset(config, 0, sizeof(*config));
}

const struct tessera_vm_config *tessera_config_find_vm(
		const struct tessera_config *config, const char *name) {
	if (config == NULL || name == NULL) {
		return NULL;
	}
	for (size_t i = 0; i < config->vm_count; i++) {
		if (strcmp(config->vms[i].name, name) == 0) {
			return &config->vms[i];
		}
	}
	return NULL;
}
