#include <string.h>

#include "tessera-client.h"

bool tessera_client_parse_color(const char *str, uint32_t *out) {
	if (str[0] == '#') {
		str++;
	}
	if (strlen(str) != 6) {
		return false;
	}
	uint32_t value = 0;
	for (size_t i = 0; i < 6; i++) {
		char c = str[i];
		uint32_t digit;
		if (c >= '0' && c <= '9') {
			digit = (uint32_t)(c - '0');
		} else if (c >= 'a' && c <= 'f') {
			digit = (uint32_t)(c - 'a' + 10);
		} else if (c >= 'A' && c <= 'F') {
			digit = (uint32_t)(c - 'A' + 10);
		} else {
			return false;
		}
		value = value << 4 | digit;
	}
	*out = value;
	return true;
}

bool tessera_client_parse_uint(const char *str, uint32_t max, uint32_t *out) {
	if (str == NULL || *str == '\0') {
		return false;
	}
	uint64_t value = 0;
	for (const char *c = str; *c != '\0'; c++) {
		if (*c < '0' || *c > '9') {
			return false;
		}
		value = value * 10 + (uint64_t)(*c - '0');
		if (value > max) {
			return false;
		}
	}
	*out = (uint32_t)value;
	return true;
}
