/* test_json.c — the JSON writer and its escaper against hostile strings: every class of ill-formed
 * UTF-8, NUL and every control byte, long strings and buffers that end anywhere. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "json/json.h"

#define FFFD "\xef\xbf\xbd"

/* The escaped form of n bytes at s, in a static buffer. */
static const char *esc(const char *s, size_t n)
{
	static char out[4096];
	struct weir_json w;

	weir_json_init(&w, out, sizeof(out));
	weir_json_str(&w, s, n);
	CHECK(weir_json_end(&w) >= 0);
	return out;
}

#define ESC(lit) esc((lit), sizeof(lit) - 1)

/* An independent strict UTF-8 check by code point arithmetic (RFC 3629): shortest form, no
 * surrogates, at most U+10FFFF. Returns the length of the valid sequence at s, or 0. */
static size_t ref_utf8(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t cp, min;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		len = 2, cp = s[0] & 0x1f, min = 0x80;
	else if ((s[0] & 0xf0) == 0xe0)
		len = 3, cp = s[0] & 0x0f, min = 0x800;
	else if ((s[0] & 0xf8) == 0xf0)
		len = 4, cp = s[0] & 0x07, min = 0x10000;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* Whether the n bytes at s are valid UTF-8 holding no raw control byte (a valid JSON string body).
 */
static int ref_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0; i < n;) {
		const size_t k = ref_utf8(p + i, n - i);
		if (!k || p[i] < 0x20 || p[i] == 0x7f)
			return 0;
		i += k;
	}
	return 1;
}

static void test_plain_and_controls(void)
{
	CHECK_STR(ESC(""), "\"\"");
	CHECK_STR(ESC("plain text 123 ~"), "\"plain text 123 ~\"");
	CHECK_STR(ESC("a\"b\\c/"), "\"a\\\"b\\\\c/\"");
	CHECK_STR(ESC("\x7f"), "\"\\u007f\"");
	/* NUL is a byte like any other when the length is given; weir_json_cstr stops there */
	CHECK_STR(ESC("a\0b"), "\"a\\u0000b\"");
	struct weir_json w;
	char b[32];
	weir_json_init(&w, b, sizeof(b));
	weir_json_cstr(&w, "a\0b");
	weir_json_cstr(&w, NULL);
	CHECK_EQ(weir_json_end(&w), 5);
	CHECK_STR(b, "\"a\"\"\"");
	for (unsigned c = 0; c < 0x20; c++) {
		char in[1] = {(char)c}, want[16];
		snprintf(want, sizeof(want), "\"\\u%04x\"", c);
		CHECK_STR(esc(in, 1), want);
	}
}

static void test_valid_utf8_passes(void)
{
	static const char *const ok[] = {
	    "\xc3\xa9",         /* U+00E9 */
	    "\xc2\x80",         /* U+0080, smallest 2-byte */
	    "\xdf\xbf",         /* U+07FF */
	    "\xe0\xa0\x80",     /* U+0800, smallest 3-byte */
	    "\xe2\x82\xac",     /* U+20AC */
	    "\xed\x9f\xbf",     /* U+D7FF, just below the surrogates */
	    "\xee\x80\x80",     /* U+E000, just above */
	    "\xef\xbf\xbf",     /* U+FFFF */
	    "\xf0\x90\x80\x80", /* U+10000, smallest 4-byte */
	    "\xf0\x9f\x98\x80", /* U+1F600 */
	    "\xf4\x8f\xbf\xbf", /* U+10FFFF, the last code point */
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char want[16];
		snprintf(want, sizeof(want), "\"%s\"", ok[i]);
		CHECK_STR(esc(ok[i], strlen(ok[i])), want);
	}
}

/* One U+FFFD per maximal subpart (Unicode 15, 3.9, table 3-8's examples among them). */
static void test_invalid_utf8_replaced(void)
{
	/* stray continuation bytes */
	CHECK_STR(ESC("\x80"), "\"" FFFD "\"");
	CHECK_STR(ESC("a\xbf\x80z"), "\"a" FFFD FFFD "z\"");
	/* bytes that never appear: C0, C1 (overlong leads), F5..FF */
	CHECK_STR(ESC("\xc0\xaf"), "\"" FFFD FFFD "\"");
	CHECK_STR(ESC("\xc1\xbf"), "\"" FFFD FFFD "\"");
	CHECK_STR(ESC("\xff\xfe"), "\"" FFFD FFFD "\"");
	CHECK_STR(ESC("\xf5\x80\x80\x80"), "\"" FFFD FFFD FFFD FFFD "\"");
	/* overlong 3- and 4-byte forms */
	CHECK_STR(ESC("\xe0\x80\xaf"), "\"" FFFD FFFD FFFD "\"");
	CHECK_STR(ESC("\xe0\x9f\xbf"), "\"" FFFD FFFD FFFD "\"");
	CHECK_STR(ESC("\xf0\x80\x80\xaf"), "\"" FFFD FFFD FFFD FFFD "\"");
	CHECK_STR(ESC("\xf0\x8f\xbf\xbf"), "\"" FFFD FFFD FFFD FFFD "\"");
	/* surrogates encoded in UTF-8 (CESU-8 pairs too) */
	CHECK_STR(ESC("\xed\xa0\x80"), "\"" FFFD FFFD FFFD "\"");
	CHECK_STR(ESC("\xed\xbf\xbf"), "\"" FFFD FFFD FFFD "\"");
	CHECK_STR(ESC("\xed\xa0\xbd\xed\xb8\x80"), "\"" FFFD FFFD FFFD FFFD FFFD FFFD "\"");
	/* beyond U+10FFFF */
	CHECK_STR(ESC("\xf4\x90\x80\x80"), "\"" FFFD FFFD FFFD FFFD "\"");
	/* truncated sequences: the valid prefix is one subpart, whatever ends it */
	CHECK_STR(ESC("\xe2\x82"), "\"" FFFD "\"");
	CHECK_STR(ESC("\xe2\x82x"), "\"" FFFD "x\"");
	CHECK_STR(ESC("\xf0\x9f\x98"), "\"" FFFD "\"");
	CHECK_STR(ESC("\xf0\x9f\x98\""), "\"" FFFD "\\\"\"");
	CHECK_STR(ESC("\xc3"), "\"" FFFD "\"");
	CHECK_STR(ESC("\xc3\xc3\xa9"), "\"" FFFD "\xc3\xa9\"");
	CHECK_STR(ESC("\xf0\x9f\x98\x01"), "\"" FFFD "\\u0001\"");
	/* Unicode's table 3-8 example: 61 F1 80 80 E1 80 C2 62 80 63 80 BF 64 */
	CHECK_STR(ESC("a\xf1\x80\x80\xe1\x80\xc2"
	              "b\x80"
	              "c\x80\xbf"
	              "d"),
	          "\"a" FFFD FFFD FFFD "b" FFFD "c" FFFD FFFD "d\"");
}

/* Every 1-, 2- and 3-byte input (the 3-byte ones from the lead bytes of multibyte forms, between
 * printable bytes): the body is valid, and a valid input without specials is copied unchanged. */
static void test_exhaustive(void)
{
	static char out[64];
	unsigned bad = 0, changed = 0;

	for (uint32_t v = 0; v < (1u << 24); v++) {
		const unsigned a = v >> 16, b = (v >> 8) & 0xff, c = v & 0xff;
		if (a < 0xc0 && v >= 0x10000)
			continue; /* one- and two-byte inputs come from v < 0x10000 */
		char in[5] = {'x', (char)a, (char)b, (char)c, 'y'};
		const char *s = v < 0x100 ? in + 3 : v < 0x10000 ? in + 2 : in + 1;
		const size_t n = (size_t)(in + 5 - s) - 1;
		struct weir_json w;
		weir_json_init(&w, out, sizeof(out));
		weir_json_str(&w, s, n);
		const int len = weir_json_end(&w);
		if (len < 2 || !ref_valid(out + 1, (size_t)len - 2))
			bad++;
		int plain = ref_valid(s, n);
		for (size_t i = 0; i < n; i++)
			plain = plain && s[i] != '"' && s[i] != '\\';
		if (plain && ((size_t)len != n + 2 || memcmp(out + 1, s, n) != 0))
			changed++;
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(changed, 0);
}

/* A text of every kind of piece, written into buffers of every size from 0 to beyond its length:
 * never a byte past the buffer, a clear -ENOSPC with "" while it does not fit, the size needed in
 * len. */
static void write_mixed(struct weir_json *w, const char *s, size_t n)
{
	weir_json_raw(w, "{\"k\":", 5);
	weir_json_str(w, s, n);
	WEIR_JSON_LIT(w, ",\"n\":");
	weir_json_u64(w, UINT64_MAX);
	weir_json_raw(w, "}", 1);
}

static void test_small_buffers(void)
{
	static const char s[] = "\x01\xff"
	                        "ab\"\xe2\x82\xac\xe2\x82";
	char full[256];
	struct weir_json w;

	weir_json_init(&w, full, sizeof(full));
	write_mixed(&w, s, sizeof(s) - 1);
	const int need = weir_json_end(&w);
	CHECK_STR(full, "{\"k\":\"\\u0001" FFFD "ab\\\"\xe2\x82\xac" FFFD
	                "\",\"n\":18446744073709551615}");
	CHECK_EQ(need, (int)strlen(full));
	for (size_t cap = 0; cap <= (size_t)need + 2; cap++) {
		char *b = malloc(
		    cap + 8); /* ASan sees a write past cap; the canary catches it without ASan */
		memset(b, '#', cap + 8);
		weir_json_init(&w, b, cap);
		write_mixed(&w, s, sizeof(s) - 1);
		const int r = weir_json_end(&w);
		CHECK_EQ(w.len, (size_t)need);
		if (cap > (size_t)need) {
			CHECK_EQ(r, need);
			CHECK_STR(b, full);
		} else {
			CHECK_EQ(r, -ENOSPC);
			CHECK(cap == 0 || b[0] == '\0');
		}
		CHECK(w.pos < cap || cap == 0);
		CHECK_MEM(b + cap, "########", 8);
		free(b);
	}
	/* measuring only */
	weir_json_init(&w, NULL, 0);
	write_mixed(&w, s, sizeof(s) - 1);
	CHECK_EQ(weir_json_end(&w), -ENOSPC);
	CHECK_EQ(w.len, (size_t)need);
}

/* A long hostile string: its worst case fits WEIR_JSON_STR_MAX exactly, one byte less does not. */
static void test_long_strings(void)
{
	const size_t n = 100000;
	char *s = malloc(n);
	for (size_t i = 0; i < n; i++)
		s[i] = (char)(i % 3 == 0 ? 0x01 : i % 3 == 1 ? 0xff : 'a');
	const size_t worst = WEIR_JSON_STR_MAX(n);
	char *b = malloc(worst + 1);
	struct weir_json w;

	weir_json_init(&w, b, worst + 1);
	weir_json_str(&w, s, n);
	const int len = weir_json_end(&w);
	CHECK(len > 0 && (size_t)len <= worst);
	CHECK(ref_valid(b + 1, (size_t)len - 2) || len < 2);
	memset(s, 0x1f, n); /* the worst case: every byte \u001f */
	weir_json_init(&w, b, worst + 1);
	weir_json_str(&w, s, n);
	CHECK_EQ(weir_json_end(&w), (int)worst);
	weir_json_init(&w, b, worst);
	weir_json_str(&w, s, n);
	CHECK_EQ(weir_json_end(&w), -ENOSPC);
	CHECK_EQ(w.len, worst);
	free(b);
	free(s);
}

static void test_numbers(void)
{
	char b[64];
	struct weir_json w;

	weir_json_init(&w, b, sizeof(b));
	weir_json_u64(&w, 0);
	weir_json_raw(&w, ",", 1);
	weir_json_u64(&w, 1234567890);
	weir_json_raw(&w, ",", 1);
	weir_json_u64_pad(&w, 42, 6);
	weir_json_raw(&w, ",", 1);
	weir_json_u64_pad(&w, 1234567, 6);
	weir_json_raw(&w, ",", 1);
	weir_json_u64_pad(&w, 7, 99);
	CHECK_EQ(weir_json_end(&w), (int)strlen(b));
	CHECK_STR(b, "0,1234567890,000042,1234567,00000000000000000007");
}

/* One number, both ways, against snprintf; counts a difference in *bad. */
static void number_vs_snprintf(uint64_t x, unsigned *bad)
{
	char b[64], want[64];
	struct weir_json w;
	weir_json_init(&w, b, sizeof(b));
	weir_json_u64(&w, x);
	weir_json_raw(&w, ",", 1);
	weir_json_u64_pad(&w, x, 7);
	weir_json_end(&w);
	snprintf(want, sizeof(want), "%llu,%07llu", (unsigned long long)x, (unsigned long long)x);
	if (strcmp(b, want) != 0 && (*bad)++ < 5)
		fprintf(stderr, "%s: want %s\n", b, want);
}

/* Every way a number's digits split into pairs, against snprintf: 0 to 100,000, each power of ten
 * from there with its neighbours, and the largest numbers. */
static void test_numbers_oracle(void)
{
	unsigned bad = 0;
	for (uint64_t v = 0; v <= 100000; v++)
		number_vs_snprintf(v, &bad);
	for (uint64_t p = 1000000; p <= 10000000000000000000ull; p *= 10) {
		number_vs_snprintf(p - 1, &bad);
		number_vs_snprintf(p, &bad);
		number_vs_snprintf(p + 1, &bad);
		if (p > UINT64_MAX / 10)
			break;
	}
	number_vs_snprintf(UINT64_MAX - 1, &bad);
	number_vs_snprintf(UINT64_MAX, &bad);
	CHECK_EQ(bad, 0);
}

/* The unchecked pieces: digit counts at every power of ten, numbers written in exactly their
 * length (the byte after is untouched), fixed widths, and the 32-bit path's edge at 2^32. */
static void test_put_numbers(void)
{
	static const struct {
		uint64_t v;
		const char *text;
	} cases[] = {
	    {0, "0"},
	    {9, "9"},
	    {10, "10"},
	    {99, "99"},
	    {100, "100"},
	    {65535, "65535"},
	    {4294967295ull, "4294967295"},
	    {4294967296ull, "4294967296"},
	    {10000000000000000000ull, "10000000000000000000"},
	    {UINT64_MAX, "18446744073709551615"},
	};
	char b[32];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(b, 'x', sizeof(b));
		const char *end = weir_json_put_u64(b, cases[i].v);
		CHECK_EQ(end - b, (long long)strlen(cases[i].text));
		CHECK_MEM(b, cases[i].text, strlen(cases[i].text));
		CHECK_EQ(*end, 'x');
		CHECK_EQ(weir_json_u64_digits(cases[i].v), strlen(cases[i].text));
	}
	uint64_t p = 1;
	for (unsigned d = 1; d <= WEIR_JSON_U64_DIGITS; d++, p *= 10) {
		CHECK_EQ(weir_json_u64_digits(p), d);
		if (p > 1)
			CHECK_EQ(weir_json_u64_digits(p - 1), d - 1);
		if (d == WEIR_JSON_U64_DIGITS)
			break;
	}
	memset(b, 'x', sizeof(b));
	CHECK_EQ(weir_json_put_fixed(b, 42, 6) - b, 6);
	CHECK_MEM(b, "000042x", 7);
	CHECK_EQ(weir_json_put_fixed(b, 1234567, 3) - b, 3); /* the lowest digits */
	CHECK_MEM(b, "567", 3);
	CHECK_EQ(weir_json_put_fixed32(b, 7, 10) - b, 10);
	CHECK_MEM(b, "0000000007x", 11);
}

/* The plain-string piece copies printable ASCII, stops at a NUL or after n bytes, and refuses
 * every byte weir_json_str would change. */
static void test_put_plain(void)
{
	char b[16];

	memset(b, 'x', sizeof(b));
	CHECK_EQ(weir_json_put_plain(b, "ShAD", 8) - b, 6);
	CHECK_MEM(b, "\"ShAD\"x", 7);
	CHECK_EQ(weir_json_put_plain(b, "ShADaf", 3) - b, 5);
	CHECK_MEM(b, "\"ShA\"", 5);
	CHECK_EQ(weir_json_put_plain(b, "", 3) - b, 2);
	static const char *const refused[] = {"a\"", "a\\", "\x1f", "\x7f", "\x80", "\xff"};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		CHECK(weir_json_put_plain(b, refused[i], 2) == NULL);
}

/* The room is there only when max bytes and the NUL's fit, and reserving changes nothing. */
static void test_reserve(void)
{
	char b[8];
	struct weir_json w;

	weir_json_init(&w, b, sizeof(b));
	WEIR_JSON_LIT(&w, "ab");
	CHECK(weir_json_reserve(&w, 6) == NULL);
	CHECK_EQ(w.pos, 2);
	CHECK_EQ(w.len, 2);
	CHECK(!w.full);
	char *p = weir_json_reserve(&w, 5);
	CHECK(p == b + 2);
	weir_json_commit(&w, WEIR_JSON_PUT_LIT(p, "cdefg"));
	CHECK_EQ(weir_json_end(&w), 7);
	CHECK_STR(b, "abcdefg");
	CHECK(weir_json_reserve(&w, 1) == NULL);
	weir_json_init(&w, NULL, 0);
	CHECK(weir_json_reserve(&w, 0) == NULL);
}

/* The stream form: the same escaping, short strings (stack) and long ones (heap), NULL as "". */
static void test_fstr(void)
{
	char got[8192];
	FILE *f = tmpfile();
	CHECK(f != NULL);
	if (!f)
		return;
	char long_s[1000];
	memset(long_s, '\x01', sizeof(long_s) - 1);
	long_s[sizeof(long_s) - 1] = '\0';
	CHECK_EQ(weir_json_fstr(f, "a\"\xff\n"), 0);
	CHECK_EQ(weir_json_fstr(f, NULL), 0);
	CHECK_EQ(weir_json_fstr(f, long_s), 0);
	rewind(f);
	const size_t n = fread(got, 1, sizeof(got) - 1, f);
	got[n] = '\0';
	fclose(f);
	CHECK_EQ(n, 14 + 2 + 2 + 6 * 999);
	CHECK(strncmp(got, "\"a\\\"" FFFD "\\u000a\"\"\"\"\\u0001", 23) == 0);
	CHECK(strcmp(got + n - 7, "\\u0001\"") == 0);
}

int main(void)
{
	test_plain_and_controls();
	test_valid_utf8_passes();
	test_invalid_utf8_replaced();
	test_exhaustive();
	test_small_buffers();
	test_long_strings();
	test_numbers();
	test_numbers_oracle();
	test_put_numbers();
	test_put_plain();
	test_reserve();
	test_fstr();
	return UNIT_DONE();
}
