/*
 * Checks of the C tests (tessera_test_dep, tests/lib/meson.build).
 *
 *   CHECK(cond)               counts the check; when cond is false prints
 *                             "FILE:LINE: check failed: COND", counts a
 *                             failure and goes on. An expression: whether
 *                             cond held.
 *   CHECK_MSG(cond, fmt, ...) the same with ": " and a printf message after
 *                             COND (a statement); the message's arguments
 *                             are evaluated only on failure.
 *   CHECK_EQ(a, b)            a == b as unsigned 64-bit integers; a failure
 *                             also prints both values.
 *   CHECK_STR(a, b)           equal strings (NULL equals nothing).
 *   REQUIRE(cond)             when cond is false prints "FILE:LINE:
 *   REQUIRE_MSG(cond, fmt, ...)  requirement failed: COND[: message]" and
 *                             exits with status 1.
 *
 * test_finish() prints "NAME: N checks, M failed" and returns the exit
 * status of the test (0 when nothing failed). The counters are the
 * program's, whichever file the checks are in.
 */
#ifndef TESSERA_TESTS_LIB_TESSERA_TEST_H
#define TESSERA_TESTS_LIB_TESSERA_TEST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h> /* every test prints */
#include <stdlib.h>

extern int test_checks;
extern int test_failures;

bool test_check(bool ok, const char *file, int line, const char *cond);
bool test_check_counted(bool ok);
void test_check_failed_msg(const char *file, int line, const char *cond,
	const char *fmt, ...) __attribute__((format(printf, 4, 5)));
bool test_check_eq(uint64_t a, uint64_t b, const char *file, int line,
	const char *what);
bool test_check_str(const char *a, const char *b, const char *file, int line,
	const char *what);
_Noreturn void test_require_failed(const char *file, int line, const char *cond);
_Noreturn void test_require_failed_msg(const char *file, int line,
	const char *cond, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#define CHECK(cond) test_check((cond), __FILE__, __LINE__, #cond)
#define CHECK_MSG(cond, ...) do { \
	if (!test_check_counted(cond)) { \
		test_check_failed_msg(__FILE__, __LINE__, #cond, __VA_ARGS__); \
	} \
} while (0)
#define CHECK_EQ(a, b) \
	test_check_eq((uint64_t)(a), (uint64_t)(b), __FILE__, __LINE__, #a " == " #b)
#define CHECK_STR(a, b) test_check_str((a), (b), __FILE__, __LINE__, #a " == " #b)

#define REQUIRE(cond) do { \
	if (!(cond)) { \
		test_require_failed(__FILE__, __LINE__, #cond); \
	} \
} while (0)
#define REQUIRE_MSG(cond, ...) do { \
	if (!(cond)) { \
		test_require_failed_msg(__FILE__, __LINE__, #cond, __VA_ARGS__); \
	} \
} while (0)

/* Prints the summary; the exit status (0: every check passed, else 1). */
int test_finish(const char *name);

/* The number of open file descriptors of this process, -1 on error. */
int test_count_fds(void);

#endif
