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
