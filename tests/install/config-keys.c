/*
 * What the configuration loader (server/compositor/config.c) and the per-VM
 * settings table (common/vm-settings.h) really accept, for the test that
 * compares them with the manual pages (check-config-docs.py):
 *
 *   config-keys settings        one line per setting of the table:
 *                               KEY SYNTAX DEFAULT MIN MAX (SYNTAX: N,
 *                               BYTES, WxH, PATH or the words A|B|C;
 *                               numbers in decimal, sizes as WxH, words
 *                               as words; DEFAULT 0: not set)
 *   config-keys probe KEY...    for each KEY, "KEY accepted" or "KEY unknown":
 *                               whether the loader knows KEY as a key of a
 *                               [vm NAME] section
 *   config-keys load FILE       loads FILE; prints the VMs' names, or the
 *                               loader's error and exits 1
 *
 * Exit status 2: bad usage.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

static const char *syntax_name(enum tessera_vm_setting_syntax syntax) {
	switch (syntax) {
	case TESSERA_VM_SETTING_COUNT:
		return "N";
	case TESSERA_VM_SETTING_BYTES:
		return "BYTES";
	case TESSERA_VM_SETTING_SIZE:
		return "WxH";
	case TESSERA_VM_SETTING_WORD:
		return "WORD";
	case TESSERA_VM_SETTING_PATH:
		return "PATH";
	}
	return "?";
}

static void print_value(const struct tessera_vm_setting *s, uint64_t v) {
	enum tessera_vm_setting_syntax syntax = s->syntax;
	if (syntax == TESSERA_VM_SETTING_WORD) {
		printf(" %s", s->words[v]);
	} else if (syntax == TESSERA_VM_SETTING_SIZE) {
		printf(" %" PRIu32 "x%" PRIu32, (uint32_t)(v >> 32), (uint32_t)v);
	} else {
		printf(" %" PRIu64, v);
	}
}

static int print_settings(void) {
	for (int i = 0; i < TESSERA_VM_SETTING_ID_COUNT; i++) {
		const struct tessera_vm_setting *s = tessera_vm_setting_get(i);
		if (s->syntax == TESSERA_VM_SETTING_WORD) {
			/* the syntax is the words: auto|virgl|off */
			printf("%s ", s->key);
			for (int w = 0; s->words[w] != NULL; w++) {
				printf("%s%s", w == 0 ? "" : "|", s->words[w]);
			}
		} else {
			printf("%s %s", s->key, syntax_name(s->syntax));
		}
		print_value(s, s->def);
		print_value(s, s->min);
		print_value(s, s->max);
		printf("\n");
	}
	return 0;
}

static bool is_key_char(char c) {
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9') || c == '_' || c == '-';
}

/*
 * Loads "[vm probe]\nKEY =\n": a key the loader knows fails on its empty
 * value (or on the section's missing keys), an unknown one fails as such.
 */
static int probe(const char *key) {
	if (key[0] == '\0' || strlen(key) > 64) {
		fprintf(stderr, "config-keys: bad key '%s'\n", key);
		return 2;
	}
	for (const char *c = key; *c != '\0'; c++) {
		if (!is_key_char(*c)) {
			fprintf(stderr, "config-keys: bad key '%s'\n", key);
			return 2;
		}
	}
	const char *dir = getenv("TMPDIR");
	char path[4096];
	snprintf(path, sizeof(path), "%s/config-keys-XXXXXX",
		dir != NULL && dir[0] != '\0' ? dir : "/tmp");
	int fd = mkstemp(path);
	if (fd < 0) {
		perror("config-keys: cannot create a temporary file");
		return 2;
	}
	FILE *f = fdopen(fd, "w");
	if (f == NULL || fprintf(f, "[vm probe]\n%s =\n", key) < 0 || fclose(f) != 0) {
		perror("config-keys: cannot write the temporary file");
		unlink(path);
		return 2;
	}
	struct tessera_config config;
	char err[512];
	bool loaded = tessera_config_load(&config, path, err, sizeof(err));
	tessera_config_finish(&config);
	unlink(path);
	if (loaded) {
		fprintf(stderr, "config-keys: a section with only '%s' was accepted\n", key);
		return 2;
	}
	char unknown[128];
	snprintf(unknown, sizeof(unknown), ":2: unknown key '%s' in [vm probe]", key);
	printf("%s %s\n", key, strstr(err, unknown) != NULL ? "unknown" : "accepted");
	return 0;
}

static int load(const char *path) {
	struct tessera_config config;
	char err[512];
	if (!tessera_config_load(&config, path, err, sizeof(err))) {
		printf("%s\n", err);
		return 1;
	}
	for (size_t i = 0; i < config.vm_count; i++) {
		printf("%s\n", config.vms[i].name);
	}
	tessera_config_finish(&config);
	return 0;
}

int main(int argc, char *argv[]) {
	if (argc == 2 && strcmp(argv[1], "settings") == 0) {
		return print_settings();
	}
	if (argc >= 2 && strcmp(argv[1], "probe") == 0) {
		for (int i = 2; i < argc; i++) {
			int status = probe(argv[i]);
			if (status != 0) {
				return status;
			}
		}
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "load") == 0) {
		return load(argv[2]);
	}
	fprintf(stderr, "usage: config-keys settings | probe KEY... | load FILE\n");
	return 2;
}
