/*
 * The EDID of tessera-vmd's one scanout (GET_EDID): an EDID 1.4 base block
 * describing a single mode, written by hand (edid.c).
 */
#ifndef TESSERA_VMD_EDID_H
#define TESSERA_VMD_EDID_H

#include <stdint.h>

#define VMD_EDID_SIZE 128

/* Fills an EDID 1.4 base block for a width x height mode (each at most
 * 4095: a detailed timing has 12-bit sizes). */
void vmd_edid_make(uint8_t edid[VMD_EDID_SIZE], uint32_t width, uint32_t height);

#endif
