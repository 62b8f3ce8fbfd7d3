#ifndef TESSERA_COMMON_WLR_PIXMAN_FORMAT_H
#define TESSERA_COMMON_WLR_PIXMAN_FORMAT_H

#include <pixman.h>
#include <stdint.h>

/* The pixman format of a DRM format that tessera and the agent draw from
 * (ARGB/XRGB/ABGR/XBGR8888, RGB565), or 0. */
pixman_format_code_t tessera_pixman_format_from_drm(uint32_t drm_format);

#endif
