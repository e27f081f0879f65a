/* json.c — the one JSON writer and string escaper (see json.h for the escaping rules).
 *
 * Why not a library: jansson (Debian's libjansson-dev; yyjson is not in Debian 12) builds a
 * document in allocated memory, a malloc per value, and then serialises it; the EVE flow record is
 * written once per flow on the flood path, into a stack buffer. Measured on this machine, one
 * flow record of a SYN flood, 200k records in a loop: this writer 0.8 us per record, the snprintf
 * code it replaced 2.8-3.3 us, the same record built with json_pack and written with json_dumpb
 * 11-13 us. */
#include "json/json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* "00" to "99": two digits per division by 100 halve a number's divisions (a flow record writes
 * some forty numbers). Sized without the literal's NUL, which the table does not need. */
const char weir_json_digit_pairs[200] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
                                        "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
                                        "8081828384858687888990919293949596979899";

const uint64_t weir_json_pow10[WEIR_JSON_U64_DIGITS] = {
	1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull, 10000000ull, 100000000ull,
	1000000000ull, 10000000000ull, 100000000000ull, 1000000000000ull, 10000000000000ull,
	100000000000000ull, 1000000000000000ull, 10000000000000000ull, 100000000000000000ull,
	1000000000000000000ull, 10000000000000000000ull
};

void weir_json_u64_pad(struct weir_json *w, uint64_t v, unsigned width)
{
	char d[WEIR_JSON_U64_DIGITS];
	unsigned n = weir_json_u64_digits(v);

	if (width > n)
		n = width < sizeof(d) ? width : sizeof(d);
	weir_json_raw(w, d, (size_t)(weir_json_put_fixed(d, v, n) - d));
}

void weir_json_u64(struct weir_json *w, uint64_t v)
{
	char d[WEIR_JSON_U64_DIGITS];

	weir_json_raw(w, d, (size_t)(weir_json_put_u64(d, v) - d));
}

/* The length of the UTF-8 sequence at s (n > 0 bytes left) following Unicode's table 3-7 of
 * well-formed byte sequences. *ok tells whether it is well formed; when not, the length is that of
 * its maximal subpart (at least 1), the bytes one U+FFFD replaces. */
static size_t utf8_seq(const unsigned char *s, size_t n, bool *ok)
{
	const unsigned char c = s[0];
	unsigned char lo = 0x80, hi = 0xbf; /* range of the second byte; the others are 80..BF */
	size_t need;

	if (c >= 0xc2 && c <= 0xdf) {
		need = 1;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 2;
		if (c == 0xe0)
			lo = 0xa0; /* below: overlong */
		else if (c == 0xed)
			hi = 0x9f; /* above: surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 3;
		if (c == 0xf0)
			lo = 0x90; /* below: overlong */
		else if (c == 0xf4)
			hi = 0x8f; /* above: beyond U+10FFFF */
	} else { /* 80..BF stray continuation, C0/C1 overlong, F5..FF out of range */
		*ok = false;
		return 1;
	}
	size_t i = 1;
	for (; i <= need && i < n; i++) {
		if (s[i] < lo || s[i] > hi)
			break;
		lo = 0x80;
		hi = 0xbf;
	}
	*ok = i == need + 1;
	return i;
}

/* Writes the escape of the byte c that cannot be copied (c < 0x80). */
static void escape_ascii(struct weir_json *w, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";

	if (c == '"' || c == '\\') {
		const char e[2] = {'\\', (char)c};
		weir_json_raw(w, e, sizeof(e));
	} else {
		const char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
		weir_json_raw(w, e, sizeof(e));
	}
}

void weir_json_str(struct weir_json *w, const char *s, size_t n)
{
	static const char replacement[] = "\xef\xbf\xbd"; /* U+FFFD in UTF-8 */
	const unsigned char *p = (const unsigned char *)s;
	size_t run = 0, i = 0; /* bytes [run, i) are copied as they are */

	weir_json_raw(w, "\"", 1);
	while (i < n) {
		const unsigned char c = p[i];
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			i++;
			continue;
		}
		bool ok = false;
		size_t k = 1;
		if (c >= 0x80) {
			k = utf8_seq(p + i, n - i, &ok);
			if (ok) {
				i += k;
				continue;
			}
		}
		if (i > run)
			weir_json_raw(w, s + run, i - run);
		if (c >= 0x80)
			weir_json_raw(w, replacement, sizeof(replacement) - 1);
		else
			escape_ascii(w, c);
		i += k;
		run = i;
	}
	if (i > run)
		weir_json_raw(w, s + run, i - run);
	weir_json_raw(w, "\"", 1);
}

void weir_json_cstr(struct weir_json *w, const char *s)
{
	if (!s)
		s = "";
	weir_json_str(w, s, strlen(s));
}

int weir_json_fstr(FILE *out, const char *s)
{
	if (!s)
		s = "";
	/* room for the worst case, so that a UTF-8 sequence is never split between two pieces */
	const size_t n = strlen(s), cap = WEIR_JSON_STR_MAX(n) + 1;
	char stack[256], *buf = cap <= sizeof(stack) ? stack : malloc(cap);
	struct weir_json w;

	if (!buf)
		return -ENOMEM;
	weir_json_init(&w, buf, cap);
	weir_json_str(&w, s, n);
	weir_json_end(&w);
	const int rc = fwrite(buf, 1, w.pos, out) == w.pos ? 0 : -EIO;
	if (buf != stack)
		free(buf);
	return rc;
}
