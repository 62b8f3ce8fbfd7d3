/*
 * tessera's one logging facility, used by every program of the project.
 *
 * Importance levels have the same values as wlroots' enum
 * wlr_log_importance, so the programs built on wlroots (tessera,
 * tessera-agent) route wlroots' own messages through tessera_log_vlog()
 * (tessera_log_forward_wlr() in common/wlr does it) and every line of a
 * process looks the same. tessera-vmd and the tools link no wlroots.
 *
 * The default writer prints to stderr:
 *
 *   HH:MM:SS.mmm TAG [LEVEL] message
 *
 * where TAG is what tessera_log_set_tag() set (e.g. "tessera-vmd[work]"),
 * omitted when unset. Wording: a failure reads "cannot <do what>: <why>".
 */
#ifndef TESSERA_COMMON_LOG_H
#define TESSERA_COMMON_LOG_H

#include <stdarg.h>

enum tessera_log_importance {
	TESSERA_SILENT = 0,
	TESSERA_ERROR = 1,
	TESSERA_INFO = 2,
	TESSERA_DEBUG = 3,
	TESSERA_LOG_IMPORTANCE_LAST,
};

typedef void (*tessera_log_func_t)(enum tessera_log_importance importance,
	const char *fmt, va_list args);

/*
 * Messages above verbosity are dropped. callback NULL: the default writer
 * (stderr, see above). May be called again to change either.
 */
void tessera_log_init(enum tessera_log_importance verbosity,
	tessera_log_func_t callback);
enum tessera_log_importance tessera_log_get_verbosity(void);

/* The tag of every line of the default writer; NULL or "" for none.
 * Copied (at most 63 bytes kept). */
void tessera_log_set_tag(const char *tag);

/*
 * At most lines_per_second lines are written per second of the monotonic
 * clock; the rest are counted and reported in one ERROR line when the next
 * second begins. For processes whose log lines an untrusted peer can
 * provoke (tessera-vmd). 0 (the default): no limit.
 */
void tessera_log_set_rate_limit(unsigned int lines_per_second);

void tessera_log(enum tessera_log_importance importance, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void tessera_log_vlog(enum tessera_log_importance importance, const char *fmt,
	va_list args) __attribute__((format(printf, 2, 0)));
/* tessera_log() with ": strerror(errno)" appended. */
void tessera_log_errno(enum tessera_log_importance importance, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
