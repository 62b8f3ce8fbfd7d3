#include <inttypes.h>
#include <stddef.h>
#include <string.h>

#include "vm-settings.h"

/* Where a setting's value lives in struct tessera_vm_settings: one
 * uint64_t, or (SIZE) two uint32_t. */
#define VALUE_OFFSETS_COUNT(field) \
	.offset = offsetof(struct tessera_vm_settings, field),
#define VALUE_OFFSETS_BYTES VALUE_OFFSETS_COUNT
#define VALUE_OFFSETS_WORD VALUE_OFFSETS_COUNT
#define VALUE_OFFSETS_PATH VALUE_OFFSETS_COUNT
/* The words of a WORD setting. */
#define WORDS_COUNT(field) NULL
#define WORDS_BYTES(field) NULL
#define WORDS_SIZE(field) NULL
#define WORDS_PATH(field) NULL
#define WORDS_WORD(field) (const char *const[]){ TESSERA_VM_WORDS_##field, NULL }
#define VALUE_OFFSETS_SIZE(field) \
	.offset = offsetof(struct tessera_vm_settings, field##_width), \
	.height_offset = offsetof(struct tessera_vm_settings, field##_height),

#define SETTING_ROW(field, key_, syntax_, def_, min_, max_, help_) \
	[TESSERA_VM_SETTING_##field] = { \
		.public = { \
			.id = TESSERA_VM_SETTING_##field, \
			.key = key_, \
			.syntax = TESSERA_VM_SETTING_##syntax_, \
			.def = def_, .min = min_, .max = max_, \
			.help = help_, \
			.words = WORDS_##syntax_(field), \
		}, \
		VALUE_OFFSETS_##syntax_(field) \
	},

struct setting_row {
	struct tessera_vm_setting public;
	size_t offset, height_offset;
};

static const struct setting_row table[] = {
	TESSERA_VM_SETTINGS(SETTING_ROW)
};

_Static_assert(sizeof(table) / sizeof(table[0]) == TESSERA_VM_SETTING_ID_COUNT,
	"one row per setting");

const struct tessera_vm_setting *tessera_vm_setting_get(enum tessera_vm_setting_id id) {
	return (unsigned)id < TESSERA_VM_SETTING_ID_COUNT ? &table[id].public : NULL;
}

const struct tessera_vm_setting *tessera_vm_setting_find(const char *key) {
	for (size_t i = 0; i < TESSERA_VM_SETTING_ID_COUNT; i++) {
		if (strcmp(table[i].public.key, key) == 0) {
			return &table[i].public;
		}
	}
	return NULL;
}

static void store(struct tessera_vm_settings *settings, const struct setting_row *row,
		uint64_t value) {
	char *base = (char *)settings;
	if (row->public.syntax == TESSERA_VM_SETTING_PATH) {
		return; /* the default is empty; a value is stored by parse */
	}
	if (row->public.syntax == TESSERA_VM_SETTING_SIZE) {
		uint32_t width = (uint32_t)(value >> 32), height = (uint32_t)value;
		memcpy(base + row->offset, &width, sizeof(width));
		memcpy(base + row->height_offset, &height, sizeof(height));
	} else {
		memcpy(base + row->offset, &value, sizeof(value));
	}
}

void tessera_vm_settings_default(struct tessera_vm_settings *settings) {
	memset(settings, 0, sizeof(*settings));
	for (size_t i = 0; i < TESSERA_VM_SETTING_ID_COUNT; i++) {
		store(settings, &table[i], table[i].public.def);
	}
}

/* A run of 1 to 12 digits, not starting with 0; its end, or NULL. */
static const char *parse_number(const char *s, uint64_t *value) {
	size_t n = 0;
	uint64_t v = 0;
	if (s[0] < '1' || s[0] > '9') {
		return NULL;
	}
	while (s[n] >= '0' && s[n] <= '9') {
		if (n == 12) {
			return NULL;
		}
		v = v * 10 + (uint64_t)(s[n] - '0');
		n++;
	}
	*value = v;
	return s + n;
}

static const char *const expected[] = {
	[TESSERA_VM_SETTING_COUNT] = "expected a positive number",
	[TESSERA_VM_SETTING_BYTES] =
		"expected a positive number of bytes, optionally with K, M or G",
	[TESSERA_VM_SETTING_SIZE] = "expected WxH",
	[TESSERA_VM_SETTING_WORD] = "expected one of",
	[TESSERA_VM_SETTING_PATH] =
		"expected an absolute path of printable characters without spaces",
};

/* WORD: the index of value among words, or -1. */
static int find_word(const char *const *words, const char *value) {
	for (int i = 0; words != NULL && words[i] != NULL; i++) {
		if (strcmp(words[i], value) == 0) {
			return i;
		}
	}
	return -1;
}

static bool valid_path(const char *value) {
	if (value[0] != '/') {
		return false;
	}
	for (const char *c = value; *c != '\0'; c++) {
		if (*c <= ' ' || *c > '~') {
			return false;
		}
	}
	return true;
}

/* WORD and PATH settings: false (and why in err) on a bad value. */
static bool parse_text(const struct setting_row *row, const char *value,
		struct tessera_vm_settings *settings, char *err, size_t err_size) {
	const struct tessera_vm_setting *s = &row->public;
	char *base = (char *)settings;
	if (s->syntax == TESSERA_VM_SETTING_PATH) {
		size_t len = strlen(value);
		if (len > TESSERA_VM_SETTING_VALUE_MAX || !valid_path(value)) {
			snprintf(err, err_size, "%s, at most %d bytes", expected[s->syntax],
				TESSERA_VM_SETTING_VALUE_MAX);
			return false;
		}
		memcpy(base + row->offset, value, len + 1);
		return true;
	}
	int index = find_word(s->words, value);
	if (index < 0) {
		size_t n = (size_t)snprintf(err, err_size, "%s", expected[s->syntax]);
		for (int i = 0; s->words[i] != NULL && n < err_size; i++) {
			n += (size_t)snprintf(err + n, err_size - n, "%s%s", i == 0 ? " " : ", ",
				s->words[i]);
		}
		return false;
	}
	uint64_t v = (uint64_t)index;
	memcpy(base + row->offset, &v, sizeof(v));
	return true;
}

/* The value with its syntax checked, as (W << 32 | H) for SIZE; false if
 * the syntax is wrong. */
static bool parse_syntax(enum tessera_vm_setting_syntax syntax, const char *s,
		uint64_t *out) {
	uint64_t v, h;
	const char *end = parse_number(s, &v);
	if (end == NULL) {
		return false;
	}
	switch (syntax) {
	case TESSERA_VM_SETTING_COUNT:
		*out = v;
		return *end == '\0';
	case TESSERA_VM_SETTING_BYTES:;
		unsigned shift = 0;
		if (*end != '\0' && end[1] == '\0') {
			shift = *end == 'K' ? 10 : *end == 'M' ? 20 : *end == 'G' ? 30 : 64;
			if (shift == 64) {
				return false;
			}
			end++;
		}
		if (*end != '\0') {
			return false;
		}
		/* 12 digits times 2^30 does not fit: saturate, the range check
		 * rejects it */
		*out = v > (UINT64_MAX >> shift) ? UINT64_MAX : v << shift;
		return true;
	case TESSERA_VM_SETTING_SIZE:
		if (*end != 'x' || v > UINT32_MAX) {
			return false;
		}
		end = parse_number(end + 1, &h);
		if (end == NULL || *end != '\0' || h > UINT32_MAX) {
			return false;
		}
		*out = TESSERA_VM_SIZE(v, h);
		return true;
	case TESSERA_VM_SETTING_WORD:
	case TESSERA_VM_SETTING_PATH:
		break; /* parse_text() */
	}
	return false;
}

bool tessera_vm_value_parse(enum tessera_vm_setting_syntax syntax,
		const char *value, uint64_t *out) {
	return strlen(value) <= TESSERA_VM_SETTING_VALUE_MAX &&
		parse_syntax(syntax, value, out);
}

bool tessera_vm_setting_parse(const struct tessera_vm_setting *setting,
		const char *value, struct tessera_vm_settings *settings,
		char *err, size_t err_size) {
	const struct setting_row *row = &table[setting->id];
	uint64_t v;
	if (setting->syntax == TESSERA_VM_SETTING_WORD ||
			setting->syntax == TESSERA_VM_SETTING_PATH) {
		return parse_text(row, value, settings, err, err_size);
	}
	if (strlen(value) > TESSERA_VM_SETTING_VALUE_MAX ||
			!parse_syntax(setting->syntax, value, &v)) {
		snprintf(err, err_size, "%s", expected[setting->syntax]);
		return false;
	}
	if (setting->syntax == TESSERA_VM_SETTING_SIZE) {
		uint32_t w = (uint32_t)(v >> 32), h = (uint32_t)v;
		uint32_t min_w = (uint32_t)(setting->min >> 32), min_h = (uint32_t)setting->min;
		uint32_t max_w = (uint32_t)(setting->max >> 32), max_h = (uint32_t)setting->max;
		if (w < min_w || h < min_h || w > max_w || h > max_h) {
			snprintf(err, err_size, "expected at least %" PRIu32 "x%" PRIu32
				" and at most %" PRIu32 "x%" PRIu32, min_w, min_h, max_w, max_h);
			return false;
		}
	} else if (v < setting->min || v > setting->max) {
		snprintf(err, err_size, "expected %" PRIu64 " to %" PRIu64,
			setting->min, setting->max);
		return false;
	}
	store(settings, row, v);
	return true;
}

/* 268435456 as "256M": the largest of G, M, K that divides it. */
static void format_bytes(uint64_t v, char *out, size_t size) {
	static const char units[] = { 'G', 'M', 'K' };
	for (int i = 0; i < 3; i++) {
		unsigned shift = 30 - 10 * (unsigned)i;
		if (v != 0 && v % (UINT64_C(1) << shift) == 0) {
			snprintf(out, size, "%" PRIu64 "%c", v >> shift, units[i]);
			return;
		}
	}
	snprintf(out, size, "%" PRIu64, v);
}

static void format_value(const struct tessera_vm_setting *s, uint64_t v,
		char *out, size_t size) {
	if (s->syntax == TESSERA_VM_SETTING_WORD) {
		snprintf(out, size, "%s", s->words[v]);
	} else if (s->syntax == TESSERA_VM_SETTING_BYTES) {
		format_bytes(v, out, size);
	} else if (s->syntax == TESSERA_VM_SETTING_SIZE) {
		snprintf(out, size, "%" PRIu32 "x%" PRIu32, (uint32_t)(v >> 32), (uint32_t)v);
	} else {
		snprintf(out, size, "%" PRIu64, v);
	}
}

/* Prints text from column 30, wrapped before column 80. */
static void print_wrapped(FILE *out, const char *text, int column) {
	const int left = 30, right = 79;
	while (*text != '\0') {
		if (column > left) {
			fputc('\n', out);
			column = 0;
		}
		fprintf(out, "%*s", left - column, "");
		int room = right - left;
		int n = (int)strlen(text);
		if (n > room) {
			n = room;
			while (n > 0 && text[n] != ' ') {
				n--;
			}
			if (n == 0) {
				n = room;
			}
		}
		fprintf(out, "%.*s\n", n, text);
		text += n;
		while (*text == ' ') {
			text++;
		}
		column = 0;
	}
}

void tessera_vm_settings_print_usage(FILE *out) {
	for (size_t i = 0; i < TESSERA_VM_SETTING_ID_COUNT; i++) {
		const struct tessera_vm_setting *s = &table[i].public;
		char text[256], def[32], max[32];
		format_value(s, s->def, def, sizeof(def));
		format_value(s, s->max, max, sizeof(max));
		if (s->syntax == TESSERA_VM_SETTING_WORD) {
			snprintf(text, sizeof(text), "%s (%s)", s->help, def);
		} else if (s->def == 0) {
			snprintf(text, sizeof(text), "%s", s->help);
		} else if (s->def == s->max) {
			snprintf(text, sizeof(text), "%s (%s, at most)", s->help, def);
		} else {
			snprintf(text, sizeof(text), "%s (%s; at most %s)", s->help, def, max);
		}
		char words[64] = "";
		for (int w = 0; s->words != NULL && s->words[w] != NULL; w++) {
			size_t n = strlen(words);
			snprintf(words + n, sizeof(words) - n, "%s%s", w == 0 ? "" : "|",
				s->words[w]);
		}
		int column = fprintf(out, "      --%s %s", s->key,
			s->syntax == TESSERA_VM_SETTING_SIZE ? "WxH" :
			s->syntax == TESSERA_VM_SETTING_BYTES ? "B" :
			s->syntax == TESSERA_VM_SETTING_WORD ? words :
			s->syntax == TESSERA_VM_SETTING_PATH ? "PATH" : "N");
		print_wrapped(out, text, column);
	}
}
