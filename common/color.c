#include "color.h"

static bool hex_digit(char c, uint32_t *value) {
	if (c >= '0' && c <= '9') {
		*value = (uint32_t)(c - '0');
	} else if (c >= 'a' && c <= 'f') {
		*value = (uint32_t)(c - 'a' + 10);
	} else if (c >= 'A' && c <= 'F') {
		*value = (uint32_t)(c - 'A' + 10);
	} else {
		return false;
	}
	return true;
}

bool tessera_color_parse(const char *str, uint32_t *rgb) {
	if (str[0] == '#') {
		str++;
	}
	uint32_t value = 0;
	for (int i = 0; i < 6; i++) {
		uint32_t digit;
		if (!hex_digit(str[i], &digit)) {
			return false; /* also at the terminating NUL */
		}
		value = value << 4 | digit;
	}
	if (str[6] != '\0') {
		return false;
	}
	*rgb = value;
	return true;
}
