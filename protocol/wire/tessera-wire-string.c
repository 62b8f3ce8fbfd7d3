/*
 * Wire strings (PROTOCOL.md §3): strict UTF-8 (RFC 3629) without C0/C1
 * control characters and DEL, and the sanitizer the agent uses to turn
 * anything a guest application sends into such a string.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tessera-wire.h"

/*
 * Decodes one UTF-8 sequence at s[0..len), len >= 1. Returns its length in
 * bytes and the code point in *cp, or 0 if the sequence is malformed
 * (overlong, surrogate, above U+10FFFF, bad or missing continuation).
 */
static size_t utf8_decode(const uint8_t *s, size_t len, uint32_t *cp) {
	uint8_t c = s[0];
	size_t need;
	uint32_t value, min;
	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if (c < 0xc2) {
		return 0; /* continuation byte or overlong 2-byte lead */
	} else if (c < 0xe0) {
		need = 1;
		value = c & 0x1f;
		min = 0x80;
	} else if (c < 0xf0) {
		need = 2;
		value = c & 0x0f;
		min = 0x800;
	} else if (c < 0xf5) {
		need = 3;
		value = c & 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	if (len - 1 < need) {
		return 0;
	}
	for (size_t i = 1; i <= need; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			return 0;
		}
		value = value << 6 | (s[i] & 0x3f);
	}
	if (value < min || value > 0x10ffff || (value >= 0xd800 && value <= 0xdfff)) {
		return 0;
	}
	*cp = value;
	return need + 1;
}

/* C0 controls (including NUL), DEL and C1 controls. */
static bool forbidden(uint32_t cp) {
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

bool tessera_wire_string_valid(const char *s, size_t len) {
	const uint8_t *p = (const uint8_t *)s;
	size_t i = 0;
	while (i < len) {
		uint32_t cp;
		size_t n = utf8_decode(p + i, len - i, &cp);
		if (n == 0 || forbidden(cp)) {
			return false;
		}
		i += n;
	}
	return true;
}

size_t tessera_wire_sanitize_string(char *dst, size_t max_len, const char *src) {
	static const char replacement[] = "\xef\xbf\xbd"; /* U+FFFD */
	const uint8_t *p = (const uint8_t *)src;
	size_t src_len = strlen(src);
	size_t out = 0;
	size_t i = 0;
	while (i < src_len) {
		uint32_t cp;
		size_t n = utf8_decode(p + i, src_len - i, &cp);
		const char *piece;
		size_t piece_len;
		if (n == 0) {
			piece = replacement;
			piece_len = 3;
			n = 1; /* resynchronise on the next byte */
		} else if (forbidden(cp)) {
			piece = " ";
			piece_len = 1;
		} else {
			piece = src + i;
			piece_len = n;
		}
		if (piece_len > max_len - out) {
			break; /* truncate at a character boundary */
		}
		memcpy(dst + out, piece, piece_len);
		out += piece_len;
		i += n;
	}
	dst[out] = '\0';
	return out;
}
