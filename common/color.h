/*
 * Colours as people write them: six hex digits RRGGBB, in either case,
 * with or without a leading '#'. One parser for tessera.ini's color key
 * (which requires the '#'), tessera-vmd --color and the clients' colour
 * arguments.
 */
#ifndef TESSERA_COMMON_COLOR_H
#define TESSERA_COMMON_COLOR_H

#include <stdbool.h>
#include <stdint.h>

/* "RRGGBB" or "#RRGGBB" into 0xRRGGBB. False, *rgb untouched, for
 * anything else (other lengths, signs, spaces, "0x"). */
bool tessera_color_parse(const char *str, uint32_t *rgb);

#endif
