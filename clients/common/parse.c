#include <string.h>

#include "tessera-client.h"

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

bool tessera_client_parse_size(const char *str, uint32_t max, int32_t *width,
		int32_t *height) {
	if (str == NULL || max > INT32_MAX) {
		return false;
	}
	const char *x = strchr(str, 'x');
	if (x == NULL || x - str > 10) {
		return false;
	}
	char w_str[11];
	memcpy(w_str, str, (size_t)(x - str));
	w_str[x - str] = '\0';
	uint32_t w, h;
	if (!tessera_client_parse_uint(w_str, max, &w) ||
			!tessera_client_parse_uint(x + 1, max, &h) || w == 0 || h == 0) {
		return false;
	}
	*width = (int32_t)w;
	*height = (int32_t)h;
	return true;
}
