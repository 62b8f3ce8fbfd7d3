/*
 * Unit test of the compositor's configuration loader (server/compositor/
 * config.c): valid files and every error, with its exact "FILE:LINE: message"
 * text. Files are written into a fresh temporary directory.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "tessera-test.h"

static char tmpdir[4096];
static char written[512][64];
static size_t written_count;

/* tmpdir/name into path */
static void make_path(char *path, size_t size, const char *name) {
	int n = snprintf(path, size, "%s/%s", tmpdir, name);
	if (n < 0 || (size_t)n >= size) {
		fprintf(stderr, "path too long: %s/%s\n", tmpdir, name);
		exit(1);
	}
}

/* Writes a file called name in the temporary directory; returns its path. */
static const char *write_file(const char *name, const char *data, size_t len) {
	static char path[4200];
	make_path(path, sizeof(path), name);
	FILE *f = fopen(path, "wb");
	if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
		exit(1);
	}
	bool known = false;
	for (size_t i = 0; i < written_count; i++) {
		known = known || strcmp(written[i], name) == 0;
	}
	if (!known && written_count < sizeof(written) / sizeof(written[0])) {
		snprintf(written[written_count++], sizeof(written[0]), "%s", name);
	}
	return path;
}

static bool is_zeroed(const struct tessera_config *config) {
	return config->path == NULL && config->vms == NULL &&
		config->vm_count == 0;
}

/* Loads path expecting failure with exactly expected as the error. */
static void expect_error_at(const char *label, const char *path,
		const char *expected) {
	struct tessera_config config;
	memset(&config, 0xa5, sizeof(config)); /* load must not rely on zeroing */
	char err[1024];
	bool ok = tessera_config_load(&config, path, err, sizeof(err));
	if (!CHECK(!ok)) {
		fprintf(stderr, "  case '%s': loaded, expected error '%s'\n",
			label, expected);
		tessera_config_finish(&config);
		return;
	}
	CHECK(is_zeroed(&config));
	if (!CHECK(strcmp(err, expected) == 0)) {
		fprintf(stderr, "  case '%s':\n    expected: %s\n    got:      %s\n",
			label, expected, err);
	}
	tessera_config_finish(&config);
}

/* Writes data and expects the error "PATH" + suffix. */
static void expect_error_len(const char *label, const char *data, size_t len,
		const char *suffix) {
	char name[64], expected[8192];
	snprintf(name, sizeof(name), "%s.ini", label);
	const char *path = write_file(name, data, len);
	snprintf(expected, sizeof(expected), "%s%s", path, suffix);
	expect_error_at(label, path, expected);
}

/* for data with NUL bytes: a string literal */
#define EXPECT_ERROR_BIN(label, literal, suffix) \
	expect_error_len((label), (literal), sizeof(literal) - 1, (suffix))

static void expect_error(const char *label, const char *data,
		const char *suffix) {
	expect_error_len(label, data, strlen(data), suffix);
}

/* Writes data and loads it expecting success; the caller finishes config. */
static bool load_ok_len(struct tessera_config *config, const char *label,
		const char *data, size_t len) {
	char name[64], err[1024];
	snprintf(name, sizeof(name), "%s.ini", label);
	const char *path = write_file(name, data, len);
	bool ok = tessera_config_load(config, path, err, sizeof(err));
	if (!CHECK(ok)) {
		fprintf(stderr, "  case '%s': unexpected error: %s\n", label, err);
		return false;
	}
	CHECK(config->path != NULL && strcmp(config->path, path) == 0);
	return true;
}

static bool load_ok(struct tessera_config *config, const char *label,
		const char *data) {
	return load_ok_len(config, label, data, strlen(data));
}

static char *repeat(char c, size_t n) {
	char *s = malloc(n + 1);
	if (s == NULL) {
		abort();
	}
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* printf into a fresh heap string */
static char *format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *format(const char *fmt, ...) {
	va_list args;
	va_start(args, fmt);
	int n = vsnprintf(NULL, 0, fmt, args);
	va_end(args);
	char *s = malloc((size_t)n + 1);
	if (s == NULL) {
		abort();
	}
	va_start(args, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, args);
	va_end(args);
	return s;
}

static void test_valid_empty(void) {
	struct tessera_config config;
	if (load_ok(&config, "empty", "")) {
		CHECK(config.vm_count == 0);
		CHECK(tessera_config_find_vm(&config, "work") == NULL);
		tessera_config_finish(&config);
	}
	if (load_ok(&config, "comments-only",
			"# comment\n; other comment\n\n   \n\t# indented comment\n"
			"#[vm not-a-section]\n")) {
		CHECK(config.vm_count == 0);
		tessera_config_finish(&config);
	}
	CHECK(is_zeroed(&config));
}

static void test_valid_three(void) {
	struct tessera_config config;
	const char *data =
		"# tessera test configuration\n"                 /* 1 */
		"; three VMs\n"                                  /* 2 */
		"\n"                                             /* 3 */
		"[vm work]\n"                                    /* 4 */
		"color=#3465A4\n"                                /* 5 */
		"vhost-user=/run/tessera/work.sock\n"            /* 6 */
		"\n"                                             /* 7 */
		"   [vm personal]\n"                             /* 8 */
		"\tcolor   =   #4e9a06   ; green\n"              /* 9 */
		"  vhost-user = /run/tessera/personal.sock\n"    /* 10: not a continuation */
		"vmd = /usr/local/bin/fake-vmd  \n"              /* 11 */
		"\n"                                             /* 12 */
		"# the untrusted one\n"                          /* 13 */
		"[vm untrusted-1_X]   ; trailing comment\n"      /* 14 */
		"color = #cc0000\n"                              /* 15 */
		"vhost-user: relative/untrusted.sock\n"          /* 16: inih allows ':' */
		"vmd = /opt/vmd;not-a-comment\n";                /* 17 */
	if (!load_ok(&config, "three", data)) {
		return;
	}
	if (CHECK(config.vm_count == 3)) {
		const struct tessera_vm_config *vm = &config.vms[0];
		CHECK(strcmp(vm->name, "work") == 0);
		CHECK(vm->color == 0x3465a4);
		CHECK(strcmp(vm->vhost_user_path, "/run/tessera/work.sock") == 0);
		CHECK(vm->vmd_path == NULL);
		CHECK(vm->line == 4);

		vm = &config.vms[1];
		CHECK(strcmp(vm->name, "personal") == 0);
		CHECK(vm->color == 0x4e9a06);
		CHECK(strcmp(vm->vhost_user_path,
			"/run/tessera/personal.sock") == 0);
		CHECK(vm->vmd_path != NULL &&
			strcmp(vm->vmd_path, "/usr/local/bin/fake-vmd") == 0);
		CHECK(vm->line == 8);

		vm = &config.vms[2];
		CHECK(strcmp(vm->name, "untrusted-1_X") == 0);
		CHECK(vm->color == 0xcc0000);
		CHECK(strcmp(vm->vhost_user_path, "relative/untrusted.sock") == 0);
		CHECK(vm->vmd_path != NULL &&
			strcmp(vm->vmd_path, "/opt/vmd;not-a-comment") == 0);
		CHECK(vm->line == 14);

		CHECK(tessera_config_find_vm(&config, "personal") == &config.vms[1]);
		CHECK(tessera_config_find_vm(&config, "untrusted-1_X") ==
			&config.vms[2]);
		CHECK(tessera_config_find_vm(&config, "Work") == NULL);
		CHECK(tessera_config_find_vm(&config, "") == NULL);
		CHECK(tessera_config_find_vm(&config, NULL) == NULL);
		CHECK(tessera_config_find_vm(NULL, "work") == NULL);
	}
	tessera_config_finish(&config);
	CHECK(is_zeroed(&config));
	tessera_config_finish(&config); /* again: harmless */
	tessera_config_finish(NULL);
}

static void test_valid_misc(void) {
	struct tessera_config config;

	/* BOM and CRLF line ends, black */
	if (load_ok(&config, "bom-crlf",
			"\xef\xbb\xbf[vm a]\r\ncolor = #000000\r\n"
			"vhost-user = /a\r\n")) {
		CHECK(config.vm_count == 1 && config.vms[0].color == 0 &&
			strcmp(config.vms[0].vhost_user_path, "/a") == 0 &&
			config.vms[0].line == 1);
		tessera_config_finish(&config);
	}

	/* no newline at the end of the file */
	if (load_ok(&config, "no-final-newline",
			"[vm a]\ncolor = #FFFFFF\nvhost-user = /a")) {
		CHECK(config.vm_count == 1 && config.vms[0].color == 0xffffff &&
			strcmp(config.vms[0].vhost_user_path, "/a") == 0);
		tessera_config_finish(&config);
	}

	/* UTF-8 in a path */
	if (load_ok(&config, "utf8-path",
			"[vm a]\ncolor = #010203\n"
			"vhost-user = /run/\xd1\x82\xd0\xb5\xd1\x81\xd1\x82.sock\n")) {
		CHECK(config.vm_count == 1 && config.vms[0].color == 0x010203);
		CHECK(strcmp(config.vms[0].vhost_user_path,
			"/run/\xd1\x82\xd0\xb5\xd1\x81\xd1\x82.sock") == 0);
		tessera_config_finish(&config);
	}

	/* longest name, longest paths, longest line (199) with and without CR */
	char *name = repeat('n', TESSERA_VM_NAME_MAX);
	char *vhost = repeat('v', TESSERA_CONFIG_PATH_MAX);
	char *vmd = repeat('d', TESSERA_CONFIG_PATH_MAX);
	char *comment = repeat('#', 199);
	char *data = format("%s\n%s\r\n[vm %s]\ncolor = #123456\n"
		"vhost-user = %s\nvmd = %s\n", comment, comment, name, vhost, vmd);
	if (load_ok(&config, "limits", data)) {
		CHECK(config.vm_count == 1);
		CHECK(strcmp(config.vms[0].name, name) == 0);
		CHECK(strcmp(config.vms[0].vhost_user_path, vhost) == 0);
		CHECK(config.vms[0].vmd_path != NULL &&
			strcmp(config.vms[0].vmd_path, vmd) == 0);
		CHECK(config.vms[0].line == 3);
		tessera_config_finish(&config);
	}
	free(name);
	free(vhost);
	free(vmd);
	free(comment);
	free(data);

	/* the most VMs allowed */
	size_t size = 0;
	char *big = NULL;
	FILE *f = open_memstream(&big, &size);
	if (f == NULL) {
		abort();
	}
	for (int i = 0; i < TESSERA_CONFIG_MAX_VMS; i++) {
		fprintf(f, "[vm vm%d]\ncolor = #%06x\nvhost-user = /run/vm%d.sock\n",
			i, i, i);
	}
	fclose(f);
	if (load_ok_len(&config, "max-vms", big, size)) {
		CHECK(config.vm_count == TESSERA_CONFIG_MAX_VMS);
		const struct tessera_vm_config *vm =
			tessera_config_find_vm(&config, "vm63");
		CHECK(vm != NULL && vm->color == 63 && vm->line == 63 * 3 + 1 &&
			strcmp(vm->vhost_user_path, "/run/vm63.sock") == 0);
		tessera_config_finish(&config);
	}
	free(big);
}

static void test_open_errors(void) {
	char path[4200], expected[8400];
	make_path(path, sizeof(path), "does-not-exist.ini");
	snprintf(expected, sizeof(expected),
		"%s: cannot open: No such file or directory", path);
	expect_error_at("missing file", path, expected);

	snprintf(expected, sizeof(expected), "%s: cannot read: Is a directory",
		tmpdir);
	expect_error_at("directory", tmpdir, expected);
}

static void test_syntax_errors(void) {
	expect_error("syntax", "[vm a]\ncolor = #ff0000\nthis is not ini\n"
		"vhost-user = /a\n", ":3: syntax error");
	expect_error("unterminated-section", "\n[vm a\n", ":2: syntax error");
	/* inih ends a section name at an inline comment */
	expect_error("comment-in-section", "[vm a ;x]\n", ":1: syntax error");
	expect_error("text-after-section", "[vm a] x\n",
		":1: unexpected text after section header: '[vm a] x'");
	expect_error("text-after-section2", "[vm a]]\n",
		":1: unexpected text after section header: '[vm a]]'");

	char *line = repeat('#', 200);
	char *data = format("[vm a]\n%s\n", line);
	expect_error("too-long", data, ":2: line too long (limit 199 characters)");
	free(data);
	data = format("[vm a]\r\n%s\r\n", line);
	expect_error("too-long-crlf", data,
		":2: line too long (limit 199 characters)");
	free(data);
	free(line);
	line = repeat('x', 1000);
	data = format("# a\n[vm a]\ncolor = #%s\r\n", line);
	expect_error("too-long-1000", data,
		":3: line too long (limit 199 characters)");
	free(data);
	free(line);
	/* a long last line without newline */
	line = repeat(';', 250);
	expect_error("too-long-last", line,
		":1: line too long (limit 199 characters)");
	free(line);

	EXPECT_ERROR_BIN("nul-byte", "[vm a]\ncol\0or = #ff0000\n",
		":2: NUL byte in line");
	EXPECT_ERROR_BIN("nul-comment", "# \0\n", ":1: NUL byte in line");
	expect_error("bad-utf8", "[vm a]\ncolor = #ff0000\nvhost-user = /\xff\n",
		":3: invalid UTF-8");
	expect_error("overlong-utf8", "# \xc0\xaf\n", ":1: invalid UTF-8");
	expect_error("surrogate-utf8", "\n# \xed\xa0\x80\n", ":2: invalid UTF-8");
	expect_error("truncated-utf8", "# \xe2\x82\n", ":1: invalid UTF-8");
	expect_error("too-big-utf8", "# \xf4\x90\x80\x80\n", ":1: invalid UTF-8");
	/* a BOM is only allowed at the very start */
	expect_error("late-bom", "\n\xef\xbb\xbf[vm a]\n", ":2: syntax error");
}

static void test_section_errors(void) {
	expect_error("outside", "color = #ff0000\n",
		":1: key 'color' outside a [vm NAME] section");
	expect_error("outside2", "# c\n\nvhost-user = /a\n[vm a]\n",
		":3: key 'vhost-user' outside a [vm NAME] section");
	expect_error("unknown-section", "# x\n\n[foo]\n",
		":3: unknown section '[foo]'");
	expect_error("unknown-section-vmfoo", "[vmfoo]\n",
		":1: unknown section '[vmfoo]'");
	expect_error("unknown-section-case", "[VM a]\n",
		":1: unknown section '[VM a]'");
	expect_error("unknown-section-tab", "[vm\ta]\n",
		":1: unknown section '[vm\\x09a]'");
	expect_error("unknown-section-space", "[ vm a ]\n",
		":1: unknown section '[ vm a ]'");
	expect_error("unknown-section-empty", "[]\n", ":1: unknown section '[]'");
	expect_error("no-name", "[vm]\n",
		":1: missing vm name in '[vm]' (expected [vm NAME])");
	expect_error("no-name2", "[vm ]\n",
		":1: missing vm name in '[vm ]' (expected [vm NAME])");
	expect_error("invalid-name", "[vm w@rk]\n",
		":1: invalid vm name 'w@rk' (allowed characters: A-Z a-z 0-9 _ -)");
	expect_error("invalid-name-space", "[vm  a]\n",
		":1: invalid vm name ' a' (allowed characters: A-Z a-z 0-9 _ -)");
	expect_error("invalid-name-utf8", "[vm \xc3\xa9]\n",
		":1: invalid vm name '\xc3\xa9' (allowed characters: A-Z a-z 0-9 _ -)");
	expect_error("invalid-name-ctrl", "[vm a\x1b]\n",
		":1: invalid vm name 'a\\x1b' (allowed characters: A-Z a-z 0-9 _ -)");

	char *name = repeat('n', TESSERA_VM_NAME_MAX + 1);
	char *data = format("[vm %s]\n", name);
	char *expected = format(":1: vm name '%s' too long (limit 32 characters)",
		name);
	expect_error("long-name", data, expected);
	free(name);
	free(data);
	free(expected);

	expect_error("duplicate-vm",
		"# vms\n"
		"[vm work]\n"
		"color = #ff0000\n"
		"vhost-user = /a\n"
		"\n"
		"[vm other]\n"
		"color = #00ff00\n"
		"vhost-user = /b\n"
		"[vm work]\n",
		":9: duplicate vm 'work' (first defined at line 2)");

	/* 65 sections */
	size_t size = 0;
	char *big = NULL;
	FILE *f = open_memstream(&big, &size);
	if (f == NULL) {
		abort();
	}
	for (int i = 0; i <= TESSERA_CONFIG_MAX_VMS; i++) {
		fprintf(f, "[vm vm%d]\ncolor = #%06x\nvhost-user = /run/vm%d.sock\n",
			i, i, i);
	}
	fclose(f);
	expect_error_len("too-many-vms", big, size, ":193: too many vms (limit 64)");
	free(big);
}

static void test_key_errors(void) {
	expect_error("unknown-key",
		"[vm work]\n"
		"color = #ff0000\n"
		"vhost-user = /a\n"
		"\n"
		"; comment\n"
		"\n"
		"colour = #00ff00\n",
		":7: unknown key 'colour' in [vm work]");
	expect_error("unknown-key-case", "[vm a]\nColor = #ff0000\n",
		":2: unknown key 'Color' in [vm a]");
	expect_error("unknown-key-ctrl", "[vm a]\nco\x01lor = x\n",
		":2: unknown key 'co\\x01lor' in [vm a]");
	expect_error("unknown-key-empty", "[vm a]\n= x\n",
		":2: unknown key '' in [vm a]");

	static const char *const bad_colors[] = {
		"#12345", "ff0000", "#ff00zz", "#ff00000", "red", "# ff0000",
		"##ff000", "#ff0000 # red", "0xff0000",
	};
	for (size_t i = 0; i < sizeof(bad_colors) / sizeof(bad_colors[0]); i++) {
		char label[32];
		snprintf(label, sizeof(label), "bad-color-%zu", i);
		char *data = format("[vm work]\nvhost-user = /a\n\n\ncolor = %s\n",
			bad_colors[i]);
		char *expected = format(":5: invalid color '%s' for vm 'work' "
			"(expected #RRGGBB)", bad_colors[i]);
		expect_error(label, data, expected);
		free(data);
		free(expected);
	}

	expect_error("duplicate-color",
		"[vm work]\n"
		"color = #ff0000\n"
		"vhost-user = /a\n"
		"\n"
		"\n"
		"color = #ff0000\n",
		":6: duplicate key 'color' in [vm work]");
	expect_error("duplicate-vhost-user",
		"[vm a]\nvhost-user = /a\nvhost-user = /b\n",
		":3: duplicate key 'vhost-user' in [vm a]");
	expect_error("duplicate-vmd",
		"[vm a]\nvmd = /x\ncolor = #000000\nvmd = /x\n",
		":4: duplicate key 'vmd' in [vm a]");

	expect_error("missing-vhost-user",
		"\n[vm work]\ncolor = #ff0000\n",
		":2: vm 'work' has no vhost-user socket path");
	expect_error("missing-vhost-user-next",
		"[vm a]\ncolor = #ff0000\nvhost-user = /a\n"
		"[vm work]\ncolor = #ff0000\n[vm c]\ncolor = #ff0000\n",
		":4: vm 'work' has no vhost-user socket path");
	expect_error("missing-color",
		"[vm work]\nvhost-user = /a\n[vm b]\n",
		":1: vm 'work' has no color");
	expect_error("empty-section", "[vm work]\n", ":1: vm 'work' has no color");

	expect_error("empty-color", "[vm a]\ncolor =\n",
		":2: empty value for 'color' in [vm a]");
	expect_error("empty-vhost-user", "[vm a]\ncolor = #000000\nvhost-user = \n",
		":3: empty value for 'vhost-user' in [vm a]");
	expect_error("empty-vmd", "[vm a]\nvmd=   ; nothing\n",
		":2: empty value for 'vmd' in [vm a]");

	char *path = repeat('p', TESSERA_CONFIG_PATH_MAX + 1);
	char *data = format("[vm a]\ncolor = #000000\nvhost-user = %s\n", path);
	expect_error("long-vhost-user", data,
		":3: vhost-user path too long for vm 'a' (108 bytes, limit 107)");
	free(data);
	data = format("[vm a]\nvmd = /%s\n", path);
	expect_error("long-vmd", data,
		":2: vmd path too long for vm 'a' (109 bytes, limit 107)");
	free(data);
	free(path);

	expect_error("ctrl-vhost-user", "[vm a]\ncolor = #000000\n"
		"vhost-user = /a\x1b[31mb\n",
		":3: control character in vhost-user path '/a\\x1b[31mb' for vm 'a'");
	expect_error("tab-vmd", "[vm a]\nvmd = /a\tb\n",
		":2: control character in vmd path '/a\\x09b' for vm 'a'");

	expect_error("same-socket",
		"[vm a]\ncolor = #000000\nvhost-user = /run/x.sock\n"
		"[vm b]\ncolor = #000000\nvhost-user = /run/y.sock\n"
		"[vm c]\ncolor = #000000\nvhost-user = /run/x.sock\n",
		":9: vm 'c' uses vhost-user path '/run/x.sock' already used by "
		"vm 'a' (line 1)");
}

static void test_first_error(void) {
	/* a syntax error (line 4) before the end of a section that lacks its
	 * vhost-user path (found at line 5, reported at line 1) */
	expect_error("first-syntax", "[vm a]\ncolor = #ff0000\n\nbogus line\n"
		"[vm b]\n", ":4: syntax error");
	expect_error("first-syntax-eof", "[vm a]\ncolor = #ff0000\nbogus line\n",
		":3: syntax error");
	/* a key error before a syntax error */
	expect_error("first-key", "[vm a]\ncolour = x\nbogus\n",
		":2: unknown key 'colour' in [vm a]");
	/* syntax errors before reader errors */
	char *line = repeat('#', 300);
	char *data = format("[vm a]\nbogus\n%s\n", line);
	expect_error("first-syntax-long", data, ":2: syntax error");
	free(data);
	free(line);
	expect_error("first-syntax-section", "bogus\n[foo]\n", ":1: syntax error");
	EXPECT_ERROR_BIN("first-syntax-nul", "bogus\n\0\n", ":1: syntax error");
	/* a reader error before a later key error */
	EXPECT_ERROR_BIN("first-nul", "[vm a]\n#\0\ncolour = x\n",
		":2: NUL byte in line");
	/* the section being left is checked before the new header */
	expect_error("first-missing", "[vm a]\nvhost-user = /a\n[vm a]\n",
		":1: vm 'a' has no color");
	expect_error("first-missing-unknown", "[vm a]\n[foo]\n",
		":1: vm 'a' has no color");
}

static void test_err_buffer(void) {
	struct tessera_config config;
	const char *path = write_file("err-buffer.ini", "[foo]\n", 6);
	char err[8];
	memset(err, 'x', sizeof(err));
	CHECK(!tessera_config_load(&config, path, err, sizeof(err)));
	CHECK(strlen(err) == sizeof(err) - 1 &&
		strncmp(err, path, sizeof(err) - 1) == 0);
	CHECK(!tessera_config_load(&config, path, NULL, 0));
	CHECK(is_zeroed(&config));
	CHECK(!tessera_config_load(&config, NULL, err, sizeof(err)));
	CHECK(!tessera_config_load(NULL, path, err, sizeof(err)));
}

static void remove_files(void) {
	for (size_t i = 0; i < written_count; i++) {
		char path[4200];
		make_path(path, sizeof(path), written[i]);
		unlink(path);
	}
	rmdir(tmpdir);
}

static void test_vm_options(void) {
	struct tessera_config config;
	if (load_ok(&config, "options",
			"[vm a]\n"
			"color = #ff0000\n"
			"vhost-user = /a\n"
			"max-surfaces = 64\n"
			"max-buffer-bytes = 512M\n"
			"display-size = 1920x1080\n"
			"scale = 2\n"
			"max-batch-size=65536\n")) {
		const struct tessera_vm_config *vm = &config.vms[0];
		CHECK(strcmp(vm->settings[TESSERA_VM_SETTING_max_surfaces], "64") == 0);
		CHECK(strcmp(vm->settings[TESSERA_VM_SETTING_max_buffer_bytes], "512M") == 0);
		CHECK(strcmp(vm->settings[TESSERA_VM_SETTING_display_size], "1920x1080") == 0);
		CHECK(strcmp(vm->settings[TESSERA_VM_SETTING_max_batch_size], "65536") == 0);
		CHECK(strcmp(vm->settings[TESSERA_VM_SETTING_scale], "2") == 0);
		CHECK(vm->settings[TESSERA_VM_SETTING_max_resources][0] == '\0');
		CHECK(strcmp(tessera_vm_setting_get(TESSERA_VM_SETTING_max_surfaces)->key,
			"max-surfaces") == 0);
		CHECK(tessera_vm_setting_get(TESSERA_VM_SETTING_ID_COUNT) == NULL);
		CHECK(tessera_vm_setting_find("max-surfaces") ==
			tessera_vm_setting_get(TESSERA_VM_SETTING_max_surfaces));
		CHECK(tessera_vm_setting_find("color") == NULL);
		tessera_config_finish(&config);
	}
	struct { const char *line, *expected; } bad[] = {
		{ "max-surfaces = 0", "invalid max-surfaces '0' for vm 'a' (expected a positive number)" },
		{ "max-surfaces = 12K", "invalid max-surfaces '12K' for vm 'a' (expected a positive number)" },
		{ "max-surfaces = -1", "invalid max-surfaces '-1' for vm 'a' (expected a positive number)" },
		{ "max-surfaces = 0012", "invalid max-surfaces '0012' for vm 'a' (expected a positive number)" },
		{ "max-resources = 9999999999999", "invalid max-resources '9999999999999' for vm 'a' (expected a positive number)" },
		{ "max-buffer-bytes = 5T", "invalid max-buffer-bytes '5T' for vm 'a' (expected a positive number of bytes, optionally with K, M or G)" },
		{ "max-buffer-bytes = 5 M", "invalid max-buffer-bytes '5 M' for vm 'a' (expected a positive number of bytes, optionally with K, M or G)" },
		{ "display-size = 1920", "invalid display-size '1920' for vm 'a' (expected WxH)" },
		{ "display-size = 1920x", "invalid display-size '1920x' for vm 'a' (expected WxH)" },
		{ "display-size = x1080", "invalid display-size 'x1080' for vm 'a' (expected WxH)" },
		{ "display-size = 800x600x2", "invalid display-size '800x600x2' for vm 'a' (expected WxH)" },
		/* ranges: the same table as tessera-vmd's options */
		{ "max-surfaces = 5000", "invalid max-surfaces '5000' for vm 'a' (expected 1 to 1024)" },
		{ "max-backing = 2000G", "invalid max-backing '2000G' for vm 'a' (expected 1 to 1099511627776)" },
		{ "max-contexts = 99999", "invalid max-contexts '99999' for vm 'a' (expected 1 to 4096)" },
		{ "display-size = 100x100", "invalid display-size '100x100' for vm 'a' (expected at least 320x200 and at most 4088x4088)" },
		{ "display-size = 5000x600", "invalid display-size '5000x600' for vm 'a' (expected at least 320x200 and at most 4088x4088)" },
		{ "scale = 3", "invalid scale '3' for vm 'a' (expected 1 to 2)" },
		{ "scale = 0", "invalid scale '0' for vm 'a' (expected a positive number)" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char label[32];
		snprintf(label, sizeof(label), "bad-option-%zu", i);
		char *data = format("[vm a]\ncolor = #ff0000\nvhost-user = /a\n%s\n", bad[i].line);
		char *expected = format(":4: %s", bad[i].expected);
		expect_error(label, data, expected);
		free(data);
		free(expected);
	}
	expect_error("dup-option",
		"[vm a]\ncolor = #ff0000\nvhost-user = /a\nmax-buffers = 4\nmax-buffers = 5\n",
		":5: duplicate key 'max-buffers' in [vm a]");
}

static void test_vm_keyboard(void) {
	struct tessera_config config;
	if (load_ok(&config, "keyboard",
			"[vm a]\n"
			"color = #ff0000\n"
			"vhost-user = /a\n"
			"keyboard-layout = de,us\n"
			"keyboard-variant = nodeadkeys,\n"
			"keyboard-model = pc105\n"
			"keyboard-options = ctrl:nocaps,compose:ralt\n"
			"[vm b]\n"
			"color = #00ff00\n"
			"vhost-user = /b\n")) {
		const struct tessera_keymap_names *a = &config.vms[0].keyboard;
		CHECK_STR(a->part[TESSERA_KEYMAP_LAYOUT], "de,us");
		CHECK_STR(a->part[TESSERA_KEYMAP_VARIANT], "nodeadkeys,");
		CHECK_STR(a->part[TESSERA_KEYMAP_MODEL], "pc105");
		CHECK_STR(a->part[TESSERA_KEYMAP_OPTIONS], "ctrl:nocaps,compose:ralt");
		CHECK(!tessera_keymap_names_empty(a));
		CHECK(tessera_keymap_names_empty(&config.vms[1].keyboard));
		tessera_config_finish(&config);
	}
	/* a bad name is reported at its own line once the section is read */
	expect_error("keyboard-layout",
		"[vm a]\ncolor = #ff0000\nkeyboard-layout = qq\nvhost-user = /a\n",
		":3: invalid keyboard-layout 'qq' for vm 'a' (unknown layout 'qq')");
	expect_error("keyboard-variant",
		"[vm a]\ncolor = #ff0000\nvhost-user = /a\nkeyboard-layout = de\n"
		"keyboard-variant = nosuch\n",
		":5: invalid keyboard-variant 'nosuch' for vm 'a' "
		"(layout 'de' has no variant 'nosuch')");
	expect_error("keyboard-layouts",
		"[vm a]\ncolor = #ff0000\nvhost-user = /a\nkeyboard-layout = us,de,fr,it,es\n",
		":4: invalid keyboard-layout 'us,de,fr,it,es' for vm 'a' (more than 4 layouts)");
	expect_error("keyboard-variants",
		"[vm a]\ncolor = #ff0000\nvhost-user = /a\nkeyboard-layout = us\n"
		"keyboard-variant = ,dvorak\n",
		":5: invalid keyboard-variant ',dvorak' for vm 'a' (expected one variant "
		"per layout, 1 in all (empty for a layout's default))");
	expect_error("keyboard-variants-short",
		"[vm a]\ncolor = #ff0000\nvhost-user = /a\nkeyboard-layout = de,us\n"
		"keyboard-variant = nodeadkeys\n",
		":5: invalid keyboard-variant 'nodeadkeys' for vm 'a' (expected one variant "
		"per layout, 2 in all (empty for a layout's default))");
	expect_error("keyboard-empty",
		"[vm a]\ncolor = #ff0000\nvhost-user = /a\nkeyboard-options =\n",
		":4: empty value for 'keyboard-options' in [vm a]");
}

/* The keys of the VMM tessera runs: values as loaded (the checks of the
 * files and of QEMU at start are config-errors'). */
static void test_vm_qemu(void) {
	struct tessera_config config;
	if (load_ok(&config, "qemu",
			"[vm a]\n"
			"color = #ff0000\n"
			"vhost-user = /a\n"
			"kernel = /boot/vmlinuz\n"
			"initrd = /boot/initrd.img\n"
			"append = console=ttyS0 quiet\n"
			"memory = 2G\n"
			"cpus = 4\n"
			"accel = tcg\n"
			"qemu = /opt/qemu/bin/qemu-system-x86_64\n"
			"qemu-args = -device 'virtio-net-pci,netdev=n' -netdev \"user,id=n\" a\\ b\n"
			"restart = no\n"
			"console = hide\n"
			"shutdown-timeout = 5\n"
			"autostart = no\n"
			"[vm b]\n"
			"color = #00ff00\n"
			"vhost-user = /b\n"
			"image = /var/lib/b.qcow2\n"
			"[vm c]\n"
			"color = #0000ff\n"
			"vhost-user = /c\n"
			"console = show\n")) {
		const struct tessera_vm_qemu_config *a = &config.vms[0].qemu;
		CHECK(tessera_vm_config_has_qemu(&config.vms[0]));
		CHECK_STR(a->kernel, "/boot/vmlinuz");
		CHECK_STR(a->initrd, "/boot/initrd.img");
		CHECK_STR(a->append, "console=ttyS0 quiet");
		CHECK(a->memory == (UINT64_C(2) << 30));
		CHECK(a->cpus == 4 && a->accel == TESSERA_VM_ACCEL_TCG);
		CHECK_STR(a->qemu, "/opt/qemu/bin/qemu-system-x86_64");
		CHECK(a->args != NULL && a->args[0] != NULL);
		const char *args[] = { "-device", "virtio-net-pci,netdev=n", "-netdev",
			"user,id=n", "a b" };
		for (size_t i = 0; i < 5 && a->args != NULL; i++) {
			CHECK(a->args[i] != NULL && strcmp(a->args[i], args[i]) == 0);
		}
		CHECK(a->args != NULL && a->args[4] != NULL && a->args[5] == NULL);
		CHECK(a->restart == TESSERA_VM_RESTART_NO && !a->autostart);
		CHECK(a->console == TESSERA_VM_CONSOLE_HIDE && a->shutdown_timeout == 5);
		/* defaults */
		const struct tessera_vm_qemu_config *b = &config.vms[1].qemu;
		CHECK(tessera_vm_config_has_qemu(&config.vms[1]));
		CHECK_STR(b->image, "/var/lib/b.qcow2");
		CHECK(b->memory == TESSERA_QEMU_MEMORY_DEFAULT && b->cpus == 1);
		CHECK(b->accel == TESSERA_VM_ACCEL_AUTO && b->autostart);
		CHECK(b->restart == TESSERA_VM_RESTART_ON_FAILURE);
		CHECK(b->console == TESSERA_VM_CONSOLE_AUTO && b->args == NULL);
		CHECK(b->shutdown_timeout == TESSERA_QEMU_SHUTDOWN_TIMEOUT_DEFAULT);
		CHECK(!tessera_vm_config_has_qemu(&config.vms[2]));
		CHECK(config.vms[2].qemu.console == TESSERA_VM_CONSOLE_SHOW);
		tessera_config_finish(&config);
	}
	expect_error("qemu-empty", "[vm a]\ncolor = #ff0000\nvhost-user = /a\nimage =\n",
		":4: empty value for 'image' in [vm a]");
	expect_error("qemu-dup", "[vm a]\ncolor = #ff0000\nvhost-user = /a\n"
		"image = /x\nmemory = 1G\nmemory = 2G\n",
		":6: duplicate key 'memory' in [vm a]");
	expect_error("qemu-memory-max", "[vm a]\ncolor = #ff0000\nvhost-user = /a\n"
		"image = /x\nmemory = 2000G\n",
		":5: memory '2000G' for vm 'a' out of range (expected 128M to 1024G: "
		"a guest needs at least 128M)");
	expect_error("qemu-initrd-image", "[vm a]\ncolor = #ff0000\nvhost-user = /a\n"
		"initrd = /i\nimage = /x\n",
		":4: 'initrd' in [vm a] needs 'kernel'");
}

int main(void) {
	const char *base = getenv("TMPDIR");
	if (base == NULL || base[0] == '\0') {
		base = "/tmp";
	}
	snprintf(tmpdir, sizeof(tmpdir), "%s/tessera-config-test-XXXXXX", base);
	if (mkdtemp(tmpdir) == NULL) {
		fprintf(stderr, "mkdtemp %s: %s\n", tmpdir, strerror(errno));
		return 1;
	}

	test_valid_empty();
	test_valid_three();
	test_valid_misc();
	test_open_errors();
	test_syntax_errors();
	test_section_errors();
	test_key_errors();
	test_first_error();
	test_err_buffer();
	test_vm_options();
	test_vm_keyboard();
	test_vm_qemu();

	remove_files();
	return test_finish("config");
}
