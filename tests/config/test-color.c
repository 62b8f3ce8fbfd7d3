/*
 * Unit test of the colour parser (common/color.h) that tessera.ini's color
 * key, tessera-vmd --color and the clients share: what it takes and what
 * it refuses, and that a refused value leaves the output alone.
 */
#include <stddef.h>

#include "color.h"
#include "tessera-test.h"

int main(void) {
	static const struct {
		const char *text;
		uint32_t rgb;
	} good[] = {
		{ "3465a4", 0x3465a4 },
		{ "#3465a4", 0x3465a4 },
		{ "#3465A4", 0x3465a4 },
		{ "aBcDeF", 0xabcdef },
		{ "#000000", 0x000000 },
		{ "FFFFFF", 0xffffff },
		{ "#010203", 0x010203 },
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		uint32_t rgb = 0xdeadbeef;
		CHECK_MSG(tessera_color_parse(good[i].text, &rgb), "'%s'", good[i].text);
		CHECK_EQ(rgb, good[i].rgb);
	}

	static const char *const bad[] = {
		"", "#", "12345", "#12345", "1234567", "#1234567", "#ff00zz", "red",
		"# ff0000", "##ff000", "#ff0000 # red", "0xff0000", "ff0000 ",
		" ff0000", "+12345", "-12345", "#ff0000\n", "ff\0" "0000",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint32_t rgb = 0xdeadbeef;
		CHECK_MSG(!tessera_color_parse(bad[i], &rgb), "'%s'", bad[i]);
		CHECK_MSG(rgb == 0xdeadbeef, "'%s' changed the output", bad[i]);
	}
	return test_finish("color");
}
