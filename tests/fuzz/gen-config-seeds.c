/*
 * Writes the seed corpus of the config fuzz target (fuzz-config.c) into
 * the directory given as argument. The committed seeds in corpus/config
 * were made with it:
 *
 *	ninja -C build tests/fuzz/gen-config-seeds
 *	rm -rf tests/fuzz/corpus/config && mkdir tests/fuzz/corpus/config
 *	build/tests/fuzz/gen-config-seeds tests/fuzz/corpus/config
 *
 * Valid files (every key and every setting syntax, comments, CRLF, a BOM,
 * many VMs) and one file per kind of error the loader reports.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name;
	const char *text;
} seeds[] = {
	{ "ok-empty", "" },
	{ "ok-comments", "# only comments\n; and blank lines\n\n   \n" },
	{ "ok-one", "[vm work]\ncolor = #3465a4\nvhost-user = /run/tessera/work.sock\n" },
	{ "ok-two",
		"# two VMs\n"
		"[vm work]\n"
		"color = #3465a4 ; blue\n"
		"vhost-user = /run/tessera/work.sock\n"
		"\n"
		"[vm banking]  # money\n"
		"color = #cc0000\n"
		"vhost-user = /run/tessera/banking.sock\n"
		"vmd = /usr/libexec/my-vmd\n" },
	{ "ok-settings",
		"[vm a]\n"
		"color = #000000\n"
		"vhost-user = /a\n"
		"display-size = 1600x900\n"
		"max-resources = 4096\n"
		"max-resource-size = 256M\n"
		"max-backing = 2G\n"
		"max-backing-entries = 16384\n"
		"max-total-entries = 262144\n"
		"max-contexts = 64\n"
		"max-surfaces = 1024\n"
		"max-buffers = 4096\n"
		"max-buffer-bytes = 1G\n"
		"max-batch-size = 64K\n" },
	{ "ok-crlf-bom", "\xef\xbb\xbf[vm x]\r\ncolor=#ffffff\r\nvhost-user=/x\r\n" },
	{ "ok-indented", "  [vm x]\n\tcolor : #123456\n    vhost-user : /tmp/x y;z\n" },
	{ "ok-utf8", "# \xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\n[vm u]\ncolor = #abcdef\n"
		"vhost-user = /run/\xc3\xa9\n" },
	{ "ok-max-names",
		"[vm abcdefghijklmnopqrstuvwxyz012345]\ncolor = #010203\n"
		"vhost-user = /0123456789012345678901234567890123456789012345678901234567890"
		"12345678901234567890123456789012345678901234\n" },
	{ "err-no-color", "[vm a]\nvhost-user = /a\n" },
	{ "err-no-socket", "[vm a]\ncolor = #000000\n" },
	{ "err-bad-color", "[vm a]\ncolor = red\nvhost-user = /a\n" },
	{ "err-color-no-hash", "[vm a]\ncolor = 123456\nvhost-user = /a\n" },
	{ "err-empty-color", "[vm a]\ncolor =\nvhost-user = /a\n" },
	{ "err-dup-vm", "[vm a]\ncolor = #000000\nvhost-user = /a\n[vm a]\ncolor = #000000\n"
		"vhost-user = /b\n" },
	{ "err-dup-socket", "[vm a]\ncolor = #000000\nvhost-user = /a\n[vm b]\ncolor = #000000\n"
		"vhost-user = /a\n" },
	{ "err-dup-key", "[vm a]\ncolor = #000000\ncolor = #000000\nvhost-user = /a\n" },
	{ "err-dup-setting", "[vm a]\ncolor = #000000\nvhost-user = /a\nmax-contexts = 1\n"
		"max-contexts = 2\n" },
	{ "err-unknown-key", "[vm a]\ncolour = #000000\n" },
	{ "err-key-outside", "color = #000000\n" },
	{ "err-unknown-section", "[global]\n" },
	{ "err-no-name", "[vm]\n" },
	{ "err-bad-name", "[vm a.b]\n" },
	{ "err-long-name", "[vm abcdefghijklmnopqrstuvwxyz0123456]\n" },
	{ "err-after-header", "[vm a] junk\n" },
	{ "err-syntax", "[vm a]\ncolor = #000000\nvhost-user = /a\nnot a key value line\n" },
	{ "err-unclosed", "[vm a\n" },
	{ "err-nul", "[vm a]\ncolor = #00\0000\n" },
	{ "err-utf8", "[vm a]\n# \xc0\xaf\n" },
	{ "err-surrogate", "# \xed\xa0\x80\n" },
	{ "err-control-path", "[vm a]\ncolor = #000000\nvhost-user = /a\x01z\n" },
	{ "err-empty-path", "[vm a]\ncolor = #000000\nvhost-user =\n" },
	{ "err-long-path",
		"[vm a]\ncolor = #000000\nvhost-user = /01234567890123456789012345678901234567890"
		"12345678901234567890123456789012345678901234567890123456789012345678\n" },
	{ "err-setting-range", "[vm a]\ncolor = #000000\nvhost-user = /a\nmax-contexts = 0\n" },
	{ "err-setting-big", "[vm a]\ncolor = #000000\nvhost-user = /a\nmax-backing = 2T\n" },
	{ "err-setting-size", "[vm a]\ncolor = #000000\nvhost-user = /a\ndisplay-size = 9000x10\n" },
	{ "err-setting-syntax", "[vm a]\ncolor = #000000\nvhost-user = /a\n"
		"max-resource-size = 12Q\n" },
	{ "err-setting-long", "[vm a]\ncolor = #000000\nvhost-user = /a\n"
		"max-resources = 000000000000000000000000001\n" },
	{ "err-multiline", "[vm a]\ncolor = #000000\n  continued\nvhost-user = /a\n" },
};

/* A file longer than inih's line limit. */
static void write_long_line(const char *dir) {
	char path[4096];
	snprintf(path, sizeof(path), "%s/err-long-line", dir);
	FILE *f = fopen(path, "wb");
	if (f == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		exit(1);
	}
	fputs("[vm a]\n# ", f);
	for (int i = 0; i < 300; i++) {
		fputc('x', f);
	}
	fputc('\n', f);
	fclose(f);
}

/* Many VMs, one more than allowed. */
static void write_many(const char *dir, const char *name, int count) {
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (f == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		exit(1);
	}
	for (int i = 0; i < count; i++) {
		fprintf(f, "[vm v%d]\ncolor=#%06x\nvhost-user=/s%d\n", i, i * 4099, i);
	}
	fclose(f);
}

int main(int argc, char *argv[]) {
	if (argc != 2) {
		fprintf(stderr, "usage: %s DIRECTORY\n", argv[0]);
		return 2;
	}
	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", argv[1], seeds[i].name);
		/* the NUL seed keeps its embedded NUL */
		size_t len = strcmp(seeds[i].name, "err-nul") == 0 ?
			sizeof("[vm a]\ncolor = #00\0000\n") - 1 : strlen(seeds[i].text);
		FILE *f = fopen(path, "wb");
		if (f == NULL || fwrite(seeds[i].text, 1, len, f) != len || fclose(f) != 0) {
			fprintf(stderr, "%s: %s\n", path, strerror(errno));
			return 1;
		}
	}
	write_long_line(argv[1]);
	write_many(argv[1], "ok-64-vms", 64);
	write_many(argv[1], "err-65-vms", 65);
	printf("wrote %zu seeds\n", sizeof(seeds) / sizeof(seeds[0]) + 3);
	return 0;
}
