#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"

static enum tessera_log_importance log_verbosity = TESSERA_ERROR;
static tessera_log_func_t log_callback = NULL; /* NULL: log_stderr */
static char log_tag[64];
static unsigned int log_rate_limit;

static const char *const level_names[] = {
	[TESSERA_SILENT] = "",
	[TESSERA_ERROR] = "[ERROR] ",
	[TESSERA_INFO] = "[INFO] ",
	[TESSERA_DEBUG] = "[DEBUG] ",
};

/*
 * The default writer. Timestamps are CLOCK_MONOTONIC, the same clock in
 * every process, so the lines of tessera, its daemons and the agents can
 * be put side by side.
 */
static void log_stderr(enum tessera_log_importance importance, const char *fmt,
		va_list args) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	char line[2048];
	if (vsnprintf(line, sizeof(line), fmt, args) < 0) {
		return;
	}
	fprintf(stderr, "%02ld:%02ld:%02ld.%03ld %s%s%s%s\n",
		(long)(ts.tv_sec / 3600), (long)(ts.tv_sec / 60 % 60),
		(long)(ts.tv_sec % 60), ts.tv_nsec / 1000000, log_tag,
		log_tag[0] != '\0' ? " " : "",
		importance < TESSERA_LOG_IMPORTANCE_LAST ? level_names[importance] : "",
		line);
}

void tessera_log_init(enum tessera_log_importance verbosity,
		tessera_log_func_t callback) {
	if (verbosity >= TESSERA_LOG_IMPORTANCE_LAST) {
		verbosity = TESSERA_LOG_IMPORTANCE_LAST - 1;
	}
	log_verbosity = verbosity;
	log_callback = callback;
}

enum tessera_log_importance tessera_log_get_verbosity(void) {
	return log_verbosity;
}

void tessera_log_set_tag(const char *tag) {
	snprintf(log_tag, sizeof(log_tag), "%s", tag != NULL ? tag : "");
}

void tessera_log_set_rate_limit(unsigned int lines_per_second) {
	log_rate_limit = lines_per_second;
}

static void log_write(enum tessera_log_importance importance, const char *fmt,
		va_list args) {
	if (log_callback != NULL) {
		log_callback(importance, fmt, args);
	} else {
		log_stderr(importance, fmt, args);
	}
}

static void log_write_line(enum tessera_log_importance importance,
		const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void log_write_line(enum tessera_log_importance importance,
		const char *fmt, ...) {
	va_list args;
	va_start(args, fmt);
	log_write(importance, fmt, args);
	va_end(args);
}

/* Whether one more line may be written now (see tessera_log_set_rate_limit). */
static int rate_limit_allows(void) {
	static time_t window;
	static unsigned int lines;
	static unsigned long suppressed;
	if (log_rate_limit == 0) {
		return 1;
	}
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (ts.tv_sec != window) {
		if (suppressed > 0) {
			log_write_line(TESSERA_ERROR, "%lu log lines suppressed "
				"(more than %u per second)", suppressed, log_rate_limit);
		}
		window = ts.tv_sec;
		lines = 0;
		suppressed = 0;
	}
	if (++lines > log_rate_limit) {
		suppressed++;
		return 0;
	}
	return 1;
}

void tessera_log_vlog(enum tessera_log_importance importance, const char *fmt,
		va_list args) {
	if (importance > log_verbosity || importance == TESSERA_SILENT) {
		return;
	}
	if (!rate_limit_allows()) {
		return;
	}
	log_write(importance, fmt, args);
}

void tessera_log(enum tessera_log_importance importance, const char *fmt, ...) {
	va_list args;
	va_start(args, fmt);
	tessera_log_vlog(importance, fmt, args);
	va_end(args);
}

void tessera_log_errno(enum tessera_log_importance importance, const char *fmt, ...) {
	int err = errno;
	char message[1024];
	va_list args;
	va_start(args, fmt);
	vsnprintf(message, sizeof(message), fmt, args);
	va_end(args);
	tessera_log(importance, "%s: %s", message, strerror(err));
	errno = err;
}
