#include <wlr/util/log.h>

#include "wlr-log.h"

_Static_assert((int)TESSERA_ERROR == (int)WLR_ERROR &&
	(int)TESSERA_INFO == (int)WLR_INFO &&
	(int)TESSERA_DEBUG == (int)WLR_DEBUG &&
	(int)TESSERA_SILENT == (int)WLR_SILENT,
	"log importance levels match wlroots'");

static void forward_wlr_log(enum wlr_log_importance importance, const char *fmt,
		va_list args) {
	tessera_log_vlog((enum tessera_log_importance)importance, fmt, args);
}

void tessera_wlr_log_init(enum tessera_log_importance verbosity, const char *tag) {
	tessera_log_init(verbosity, NULL);
	tessera_log_set_tag(tag);
	wlr_log_init((enum wlr_log_importance)verbosity, forward_wlr_log);
}
