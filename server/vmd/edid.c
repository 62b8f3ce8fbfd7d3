/*
 * EDID 1.4 base block (VESA E-EDID, release A rev. 2), written by hand: no
 * Debian-packaged library generates EDID (libdisplay-info and edid-decode
 * only parse it). One detailed timing descriptor with CVT reduced-blanking
 * timings for width x height at 60 Hz (30 Hz when the pixel clock would
 * not fit the field; longer horizontal blanking for modes so small that
 * the pixel clock would be under 10 MHz), display range limits, a monitor
 * name and a dummy descriptor; sRGB chromaticity; checksum in the last
 * byte. See edid.h.
 */
#include <string.h>

#include "edid.h"

/* Offsets in the base block. */
#define EDID_DESCRIPTOR_1 54 /* the detailed timing */
#define EDID_DESCRIPTOR_2 72 /* display range limits */
#define EDID_DESCRIPTOR_3 90 /* monitor name */
#define EDID_DESCRIPTOR_4 108 /* dummy */

/* CVT reduced-blanking timings of one mode. */
struct cvt_timing {
	uint32_t refresh; /* Hz */
	uint32_t h_front, h_sync, h_blank, h_total;
	uint32_t v_front, v_sync, v_blank;
	uint64_t clock_khz;
};

static void put_le16(uint8_t *p, uint32_t v) {
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
}

/* Physical size at 96 dpi, at least 10 cm, as a real monitor. */
static void physical_size_mm(uint32_t width, uint32_t height, uint32_t *w_mm,
		uint32_t *h_mm) {
	uint32_t w = (width * 254 + 480) / 960, h = (height * 254 + 480) / 960;
	*w_mm = w < 100 ? 100 : w;
	*h_mm = h < 100 ? 100 : h;
}

/* Header, vendor and product, version; basic display parameters. */
static void put_header(uint8_t e[VMD_EDID_SIZE], uint32_t w_mm, uint32_t h_mm) {
	static const uint8_t header[8] = { 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0 };
	memcpy(e, header, sizeof(header));
	/* manufacturer "TSR" (three 5-bit letters, big-endian), product 1 */
	uint32_t mfg = ((uint32_t)('T' - '@') << 10) | (('S' - '@') << 5) |
		('R' - '@');
	e[8] = (mfg >> 8) & 0xff;
	e[9] = mfg & 0xff;
	put_le16(&e[10], 1);
	/* serial 0; week 1 of 2024 */
	e[16] = 1;
	e[17] = 2024 - 1990;
	e[18] = 1; /* version 1.4 */
	e[19] = 4;
	e[20] = 0x80 | 0x20; /* digital input, 8 bits per colour */
	/* physical size in cm (and in mm in the detailed timing) */
	e[21] = (uint8_t)((w_mm + 5) / 10 > 255 ? 255 : (w_mm + 5) / 10);
	e[22] = (uint8_t)((h_mm + 5) / 10 > 255 ? 255 : (h_mm + 5) / 10);
	e[23] = 120; /* gamma 2.2 */
	e[24] = 0x06; /* RGB 4:4:4, sRGB default, preferred timing is native */
}

/* sRGB chromaticity, 10-bit fractions of 1024. */
static void put_chromaticity(uint8_t e[VMD_EDID_SIZE]) {
	const uint32_t rx = 655, ry = 338, gx = 307, gy = 614, bx = 154, by = 61,
		wx = 320, wy = 337;
	e[25] = (uint8_t)(((rx & 3) << 6) | ((ry & 3) << 4) | ((gx & 3) << 2) |
		(gy & 3));
	e[26] = (uint8_t)(((bx & 3) << 6) | ((by & 3) << 4) | ((wx & 3) << 2) |
		(wy & 3));
	e[27] = rx >> 2;
	e[28] = ry >> 2;
	e[29] = gx >> 2;
	e[30] = gy >> 2;
	e[31] = bx >> 2;
	e[32] = by >> 2;
	e[33] = wx >> 2;
	e[34] = wy >> 2;
}

/* CVT's vertical sync width for the aspect ratio. */
static uint32_t cvt_v_sync(uint32_t width, uint32_t height) {
	if (width * 3 == height * 4) {
		return 4;
	} else if (width * 9 == height * 16) {
		return 5;
	} else if (width * 10 == height * 16) {
		return 6;
	} else if (width * 4 == height * 5 || width * 9 == height * 15) {
		return 7;
	}
	return 10; /* other aspect ratios */
}

/* CVT reduced blanking (VESA CVT 1.2, section 3.4) at 60 Hz, or 30 Hz if
 * the pixel clock would not fit the detailed timing's 16 bits of 10 kHz. */
static void cvt_reduced_blanking(uint32_t width, uint32_t height, struct cvt_timing *t) {
	const uint32_t min_v_back = 6;
	*t = (struct cvt_timing){
		.refresh = 60,
		.h_front = 48,
		.h_sync = 32,
		.h_blank = 160,
		.v_front = 3,
		.v_sync = cvt_v_sync(width, height),
	};
	t->h_total = width + t->h_blank;
	for (;;) {
		double h_period_us = (1e6 / t->refresh - 460.0) / height;
		t->v_blank = (uint32_t)(460.0 / h_period_us) + 1;
		if (t->v_blank < t->v_front + t->v_sync + min_v_back) {
			t->v_blank = t->v_front + t->v_sync + min_v_back;
		}
		uint32_t v_total = height + t->v_blank;
		/* rounded down to 250 kHz steps */
		t->clock_khz = (uint64_t)t->h_total * v_total * t->refresh / 1000;
		if (t->clock_khz < 10000) {
			/* small modes: longer blanking up to the 10 MHz an EDID
			 * pixel clock needs at least */
			t->h_total = (uint32_t)((10000000 + (uint64_t)v_total * t->refresh - 1) /
				((uint64_t)v_total * t->refresh));
			t->h_blank = t->h_total - width;
			t->clock_khz = (uint64_t)t->h_total * v_total * t->refresh / 1000;
		}
		t->clock_khz -= t->clock_khz % 250;
		if (t->clock_khz <= 655350 || t->refresh <= 30) {
			break;
		}
		t->refresh = 30;
	}
	if (t->clock_khz > 655350) {
		t->clock_khz = 655350;
	}
}

static void put_detailed_timing(uint8_t d[18], uint32_t width, uint32_t height,
		const struct cvt_timing *t, uint32_t w_mm, uint32_t h_mm) {
	put_le16(&d[0], (uint32_t)(t->clock_khz / 10));
	d[2] = width & 0xff;
	d[3] = t->h_blank & 0xff;
	d[4] = (uint8_t)(((width >> 8) & 0xf) << 4 | ((t->h_blank >> 8) & 0xf));
	d[5] = height & 0xff;
	d[6] = t->v_blank & 0xff;
	d[7] = (uint8_t)(((height >> 8) & 0xf) << 4 | ((t->v_blank >> 8) & 0xf));
	d[8] = t->h_front & 0xff;
	d[9] = t->h_sync & 0xff;
	d[10] = (uint8_t)((t->v_front & 0xf) << 4 | (t->v_sync & 0xf));
	d[11] = (uint8_t)(((t->h_front >> 8) & 3) << 6 | ((t->h_sync >> 8) & 3) << 4 |
		((t->v_front >> 4) & 3) << 2 | ((t->v_sync >> 4) & 3));
	d[12] = w_mm & 0xff;
	d[13] = h_mm & 0xff;
	d[14] = (uint8_t)(((w_mm >> 8) & 0xf) << 4 | ((h_mm >> 8) & 0xf));
	d[17] = 0x18 | 0x02; /* digital separate sync, hsync +, vsync - */
}

/* Display range limits around that one timing. */
static void put_range_limits(uint8_t d[18], const struct cvt_timing *t) {
	uint32_t h_khz = (uint32_t)(t->clock_khz / t->h_total);
	d[3] = 0xfd;
	d[5] = (uint8_t)(t->refresh - 1);
	d[6] = (uint8_t)(t->refresh + 1);
	d[7] = (uint8_t)(h_khz > 1 ? h_khz - 1 : 1);
	d[8] = (uint8_t)(h_khz + 1 > 255 ? 255 : h_khz + 1);
	d[9] = (uint8_t)((t->clock_khz + 9999) / 10000);
	d[10] = 0x01; /* range limits only */
	d[11] = 0x0a;
	memset(&d[12], 0x20, 6);
}

static void put_monitor_name(uint8_t d[18]) {
	static const char name[13] = "tessera\n     ";
	d[3] = 0xfc;
	memcpy(&d[5], name, sizeof(name));
}

void vmd_edid_make(uint8_t e[VMD_EDID_SIZE], uint32_t width, uint32_t height) {
	memset(e, 0, VMD_EDID_SIZE);
	uint32_t w_mm, h_mm;
	physical_size_mm(width, height, &w_mm, &h_mm);
	put_header(e, w_mm, h_mm);
	put_chromaticity(e);
	/* no established timings; standard timings unused */
	for (int i = 38; i < 54; i++) {
		e[i] = 1;
	}

	struct cvt_timing timing;
	cvt_reduced_blanking(width, height, &timing);
	put_detailed_timing(&e[EDID_DESCRIPTOR_1], width, height, &timing, w_mm, h_mm);
	put_range_limits(&e[EDID_DESCRIPTOR_2], &timing);
	put_monitor_name(&e[EDID_DESCRIPTOR_3]);
	e[EDID_DESCRIPTOR_4 + 3] = 0x10; /* dummy descriptor */

	e[126] = 0; /* no extension blocks */
	uint8_t sum = 0;
	for (int i = 0; i < 127; i++) {
		sum += e[i];
	}
	e[127] = (uint8_t)(0x100 - sum);
}
