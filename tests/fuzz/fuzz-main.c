/*
 * Replays fuzz inputs without libFuzzer: runs LLVMFuzzerTestOneInput on
 * every file given, or on every file of every directory given. Used by the
 * wire-fuzz-corpus test to run the committed corpus with the project's
 * compiler (and under ASan/UBSan in the sanitizer build).
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz-target.h"

static int run_file(const char *path) {
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	static uint8_t buf[1 << 20];
	size_t n = fread(buf, 1, sizeof(buf), f);
	bool bad = ferror(f) || !feof(f);
	fclose(f);
	if (bad) {
		fprintf(stderr, "%s: unreadable or larger than %zu bytes\n", path, sizeof(buf));
		return -1;
	}
	/* an exact-size copy, so ASan sees reads past the input */
	uint8_t *copy = malloc(n > 0 ? n : 1);
	if (copy == NULL) {
		return -1;
	}
	memcpy(copy, buf, n);
	LLVMFuzzerTestOneInput(copy, n);
	free(copy);
	return 0;
}

int main(int argc, char *argv[]) {
	size_t count = 0;
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
			return 1;
		}
		if (!S_ISDIR(st.st_mode)) {
			if (run_file(argv[i]) != 0) {
				return 1;
			}
			count++;
			continue;
		}
		DIR *dir = opendir(argv[i]);
		if (dir == NULL) {
			fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
			return 1;
		}
		struct dirent *ent;
		while ((ent = readdir(dir)) != NULL) {
			if (ent->d_name[0] == '.') {
				continue;
			}
			char path[4096];
			snprintf(path, sizeof(path), "%s/%s", argv[i], ent->d_name);
			if (run_file(path) != 0) {
				closedir(dir);
				return 1;
			}
			count++;
		}
		closedir(dir);
	}
	printf("ran %zu inputs\n", count);
	if (count == 0) {
		fprintf(stderr, "no inputs\n");
		return 1;
	}
	return 0;
}
