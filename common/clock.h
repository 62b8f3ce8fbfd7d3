/*
 * The monotonic clock in milliseconds, for deadlines, timeouts and
 * wl_callback.done times. CLOCK_MONOTONIC is the same clock in every
 * process (the log timestamps use it too), so values compare across
 * tessera, its daemons and the agents.
 */
#ifndef TESSERA_COMMON_CLOCK_H
#define TESSERA_COMMON_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC now, in whole milliseconds (never negative). */
int64_t tessera_clock_now_ms(void);

#endif
