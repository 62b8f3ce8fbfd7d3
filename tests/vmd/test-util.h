/* Small helpers shared by the vmd tests. */
#ifndef TESSERA_TESTS_VMD_TEST_UTIL_H
#define TESSERA_TESTS_VMD_TEST_UTIL_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

static int test_failures __attribute__((unused));

#define CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, \
			#cond); \
		test_failures++; \
	} \
} while (0)

#define REQUIRE(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: requirement failed: %s\n", __FILE__, \
			__LINE__, #cond); \
		exit(1); \
	} \
} while (0)

/* Open file descriptors of this process. */
static inline int test_count_fds(void) {
	DIR *dir = opendir("/proc/self/fd");
	if (dir == NULL) {
		return -1;
	}
	int n = 0;
	struct dirent *ent;
	while ((ent = readdir(dir)) != NULL) {
		if (ent->d_name[0] != '.') {
			n++;
		}
	}
	closedir(dir);
	return n - 1; /* the directory's own fd */
}

static inline int test_finish(const char *name) {
	if (test_failures > 0) {
		fprintf(stderr, "%s: %d check(s) failed\n", name, test_failures);
		return 1;
	}
	printf("%s: all checks passed\n", name);
	return 0;
}

#endif
