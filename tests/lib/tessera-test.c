#include <dirent.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tessera-test.h"

int test_checks;
int test_failures;

bool test_check(bool ok, const char *file, int line, const char *cond) {
	test_checks++;
	if (!ok) {
		test_failures++;
		fprintf(stderr, "%s:%d: check failed: %s\n", file, line, cond);
	}
	return ok;
}

bool test_check_counted(bool ok) {
	test_checks++;
	return ok;
}

static void print_failure(const char *file, int line, const char *what,
		const char *cond, const char *fmt, va_list args) {
	fprintf(stderr, "%s:%d: %s failed: %s: ", file, line, what, cond);
	vfprintf(stderr, fmt, args);
	fputc('\n', stderr);
}

void test_check_failed_msg(const char *file, int line, const char *cond,
		const char *fmt, ...) {
	test_failures++;
	va_list args;
	va_start(args, fmt);
	print_failure(file, line, "check", cond, fmt, args);
	va_end(args);
}

bool test_check_eq(uint64_t a, uint64_t b, const char *file, int line,
		const char *what) {
	bool ok = test_check(a == b, file, line, what);
	if (!ok) {
		fprintf(stderr, "  got %" PRIu64 " (0x%" PRIx64 "), expected %" PRIu64
			" (0x%" PRIx64 ")\n", a, a, b, b);
	}
	return ok;
}

bool test_check_str(const char *a, const char *b, const char *file, int line,
		const char *what) {
	bool ok = test_check(a != NULL && b != NULL && strcmp(a, b) == 0, file, line, what);
	if (!ok) {
		fprintf(stderr, "  got \"%s\", expected \"%s\"\n", a ? a : "(null)",
			b ? b : "(null)");
	}
	return ok;
}

void test_require_failed(const char *file, int line, const char *cond) {
	fprintf(stderr, "%s:%d: requirement failed: %s\n", file, line, cond);
	exit(1);
}

void test_require_failed_msg(const char *file, int line, const char *cond,
		const char *fmt, ...) {
	va_list args;
	va_start(args, fmt);
	print_failure(file, line, "requirement", cond, fmt, args);
	va_end(args);
	exit(1);
}

int test_finish(const char *name) {
	printf("%s: %d checks, %d failed\n", name, test_checks, test_failures);
	return test_failures == 0 ? 0 : 1;
}

int test_count_fds(void) {
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
