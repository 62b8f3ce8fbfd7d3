/*
 * libFuzzer target for the compositor's configuration loader
 * (server/compositor/config.c, on libinih): the input is the text of
 * tessera.ini, loaded from a memfd through /proc/self/fd.
 *
 * Checked besides the sanitizers (a violation traps):
 * - a failure leaves the config zeroed and an error "PATH: ..." or
 *   "PATH:LINE: ..." with LINE within the file; the same load into a
 *   short error buffer fails the same way, with a NUL-terminated prefix of
 *   that message;
 * - a success holds at most TESSERA_CONFIG_MAX_VMS VMs, each with a valid
 *   and unique name, a colour of 24 bits, a unique vhost-user path and a
 *   vmd path (if any) of 1..TESSERA_CONFIG_PATH_MAX bytes without control
 *   characters, and settings that tessera-vmd parses again; every VM is
 *   found by name;
 * - nothing is lost or invented: the loaded config, written back as INI,
 *   loads into exactly the same config.
 *
 * Built with clang -fsanitize=fuzzer by run-fuzz.sh, and with the project
 * compiler together with fuzz-main.c to replay the committed corpus.
 */
#define _GNU_SOURCE /* memfd_create */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"
#include "fuzz-target.h"
#include "vm-settings.h"

#define ERR_SIZE 1024

static int fd = -1;
static char path[64];

static void write_file(const void *data, size_t size) {
	CHECK(ftruncate(fd, 0) == 0);
	CHECK(pwrite(fd, data, size, 0) == (ssize_t)size);
}

static bool is_name_char(char c) {
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9') || c == '_' || c == '-';
}

static void check_path_value(const char *p, size_t max) {
	size_t len = strnlen(p, max + 1);
	CHECK(len >= 1 && len <= max);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];
		CHECK(c >= 0x20 && c != 0x7f);
	}
}

static void check_valid(const struct tessera_config *config) {
	CHECK(config->path != NULL && strcmp(config->path, path) == 0);
	CHECK(config->vm_count <= TESSERA_CONFIG_MAX_VMS);
	CHECK(config->vm_count == 0 || config->vms != NULL);
	for (size_t i = 0; i < config->vm_count; i++) {
		const struct tessera_vm_config *vm = &config->vms[i];
		size_t len = strnlen(vm->name, sizeof(vm->name));
		CHECK(len >= 1 && len <= TESSERA_VM_NAME_MAX);
		for (size_t k = 0; k < len; k++) {
			CHECK(is_name_char(vm->name[k]));
		}
		CHECK(vm->color <= 0xffffff);
		CHECK(vm->line >= 1);
		check_path_value(vm->vhost_user_path, TESSERA_CONFIG_PATH_MAX);
		if (vm->vmd_path != NULL) {
			check_path_value(vm->vmd_path, TESSERA_CONFIG_PATH_MAX);
		}
		for (size_t s = 0; s < TESSERA_VM_SETTING_ID_COUNT; s++) {
			const char *value = vm->settings[s];
			CHECK(strnlen(value, sizeof(vm->settings[s])) <
				sizeof(vm->settings[s]));
			if (value[0] != '\0') {
				/* the daemon parses what tessera passes on */
				struct tessera_vm_settings parsed;
				char why[96];
				CHECK(tessera_vm_setting_parse(tessera_vm_setting_get(s), value,
					&parsed, why, sizeof(why)));
			}
		}
		for (size_t j = 0; j < i; j++) {
			CHECK(strcmp(config->vms[j].name, vm->name) != 0);
			CHECK(strcmp(config->vms[j].vhost_user_path,
				vm->vhost_user_path) != 0);
			CHECK(config->vms[j].line < vm->line);
		}
		CHECK(tessera_config_find_vm(config, vm->name) == vm);
	}
}

/* The config as INI text (malloc'ed). No blank after '=': inih takes a
 * ';' after a blank for a comment, and a value may start with ';'. */
static char *write_ini(const struct tessera_config *config, size_t *len) {
	char *text = NULL;
	FILE *f = open_memstream(&text, len);
	CHECK(f != NULL);
	for (size_t i = 0; i < config->vm_count; i++) {
		const struct tessera_vm_config *vm = &config->vms[i];
		fprintf(f, "[vm %s]\ncolor=#%06x\nvhost-user=%s\n", vm->name,
			vm->color, vm->vhost_user_path);
		if (vm->vmd_path != NULL) {
			fprintf(f, "vmd=%s\n", vm->vmd_path);
		}
		for (size_t s = 0; s < TESSERA_VM_SETTING_ID_COUNT; s++) {
			if (vm->settings[s][0] != '\0') {
				fprintf(f, "%s=%s\n", tessera_vm_setting_get(s)->key,
					vm->settings[s]);
			}
		}
	}
	CHECK(fclose(f) == 0);
	return text;
}

static void check_same(const struct tessera_config *a,
		const struct tessera_config *b) {
	CHECK(a->vm_count == b->vm_count);
	for (size_t i = 0; i < a->vm_count; i++) {
		const struct tessera_vm_config *x = &a->vms[i], *y = &b->vms[i];
		CHECK(strcmp(x->name, y->name) == 0);
		CHECK(x->color == y->color);
		CHECK(strcmp(x->vhost_user_path, y->vhost_user_path) == 0);
		CHECK((x->vmd_path == NULL) == (y->vmd_path == NULL));
		CHECK(x->vmd_path == NULL || strcmp(x->vmd_path, y->vmd_path) == 0);
		CHECK(memcmp(x->settings, y->settings, sizeof(x->settings)) == 0);
	}
}

static bool is_zeroed(const struct tessera_config *config) {
	return config->path == NULL && config->vms == NULL &&
		config->vm_count == 0;
}

/* "PATH: ..." or "PATH:LINE: ..." with 1 <= LINE <= lines. */
static void check_error(const char *err, size_t lines) {
	size_t n = strlen(path);
	CHECK(strncmp(err, path, n) == 0 && err[n] == ':');
	const char *p = err + n + 1;
	if (*p == ' ') {
		CHECK(p[1] != '\0');
		return;
	}
	char *end;
	long line = strtol(p, &end, 10);
	CHECK(end != p && line >= 1 && (size_t)line <= lines);
	CHECK(end[0] == ':' && end[1] == ' ' && end[2] != '\0');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	if (fd < 0) {
		fd = memfd_create("fuzz-config", MFD_CLOEXEC);
		CHECK(fd >= 0);
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	write_file(data, size);
	size_t lines = 1;
	for (size_t i = 0; i < size; i++) {
		lines += data[i] == '\n';
	}

	struct tessera_config config;
	memset(&config, 0xa5, sizeof(config)); /* load must not rely on zeroing */
	char err[ERR_SIZE];
	memset(err, 'x', sizeof(err));
	bool ok = tessera_config_load(&config, path, err, sizeof(err));
	CHECK(memchr(err, '\0', sizeof(err)) != NULL);

	/* the same load with a short error buffer (exact size: ASan sees any
	 * write past it) */
	size_t small_size = size % 24;
	char *small = malloc(small_size > 0 ? small_size : 1);
	CHECK(small != NULL);
	struct tessera_config again;
	bool ok_again = tessera_config_load(&again, path,
		small_size > 0 ? small : NULL, small_size);
	CHECK(ok_again == ok);
	if (small_size > 0) {
		size_t len = strnlen(small, small_size);
		CHECK(len < small_size);
		CHECK(strncmp(small, err, len) == 0);
		CHECK(len == strlen(err) || len == small_size - 1);
	}
	free(small);
	tessera_config_finish(&again);

	if (!ok) {
		CHECK(is_zeroed(&config));
		check_error(err, lines);
		return 0;
	}
	CHECK(err[0] == '\0');
	check_valid(&config);

	size_t len;
	char *text = write_ini(&config, &len);
	write_file(text, len);
	free(text);
	CHECK(tessera_config_load(&again, path, err, sizeof(err)));
	check_same(&config, &again);
	tessera_config_finish(&again);
	tessera_config_finish(&config);
	CHECK(is_zeroed(&config));
	tessera_config_finish(&config); /* twice is fine */
	return 0;
}
