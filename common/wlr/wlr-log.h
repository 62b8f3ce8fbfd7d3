#ifndef TESSERA_WLR_LOG_H
#define TESSERA_WLR_LOG_H

#include "log.h"

/*
 * For the programs built on wlroots: sets up tessera's log (log.h) with
 * the given verbosity and line tag, and routes wlroots' own messages into
 * it, so that a process has one log.
 */
void tessera_wlr_log_init(enum tessera_log_importance verbosity, const char *tag);

#endif
