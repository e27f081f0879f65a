/* json.h — the one JSON writer: bounded, streaming output into the caller's buffer, and the one
 * string escaper. */
#ifndef WEIR_JSON_H
#define WEIR_JSON_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/**
 * A JSON text being written into a caller's buffer. Nothing is allocated. Pieces are appended
 * whole or not at all: once one does not fit (one byte is always kept for the terminating NUL),
 * full is set, nothing more is written, and len goes on counting what the text would need, so a
 * caller can size a second buffer (as snprintf does).
 *
 * Strings (weir_json_str) are escaped one way everywhere:
 * - '"' and '\' as \" and \\;
 * - the control bytes 0x00-0x1f and 0x7f (DEL) as \u00XX, lower-case hex (NUL included: a string
 *   given with its length may hold NULs);
 * - valid UTF-8 (RFC 3629: shortest form, no surrogates, at most U+10FFFF) is copied as it is;
 * - ill-formed UTF-8 (overlong forms, encoded surrogates U+D800-DFFF, code points above U+10FFFF,
 *   truncated sequences, stray continuation bytes, the bytes C0, C1, F5-FF) is replaced by U+FFFD
 *   (written as its UTF-8 bytes EF BF BD), one U+FFFD per maximal subpart as Unicode 15 section
 *   3.9 recommends (the WHATWG decoder's behaviour). The output is then always valid UTF-8 JSON
 *   (RFC 8259 section 8.1); the replaced bytes are lost, which is acceptable for log text.
 *
 * Every function takes a writer made by weir_json_init and may be called in any state; all run
 * on the calling thread only.
 */
struct weir_json {
	char *buf;
	size_t cap; /**< bytes of buf */
	size_t pos; /**< bytes written to buf so far (stops growing once full) */
	size_t len; /**< bytes the whole text needs (without its NUL) */
	bool full;  /**< a piece did not fit; buf holds only the pieces before it */
};

/** The most bytes weir_json_str can produce from n input bytes: 6 per byte (\u00XX) plus the
 *  quotes (n below SIZE_MAX / 6). */
#define WEIR_JSON_STR_MAX(n) (6 * (size_t)(n) + 2)

/** Starts a text in buf (cap bytes; buf may be NULL when cap is 0, to measure only). */
static inline void weir_json_init(struct weir_json *w, char *buf, size_t cap)
{
	*w = (struct weir_json){ .buf = buf, .cap = buf ? cap : 0 };
}
/** Appends n bytes of JSON text as they are (punctuation, keys, literals the caller knows to be
 *  JSON). Inline: most pieces are short constants, whose copy compiles to a few moves. */
static inline void weir_json_raw(struct weir_json *w, const char *text, size_t n)
{
	w->len += n;
	/* < keeps the byte for the NUL; a full writer stays full */
	if (!w->full && n < w->cap - w->pos) {
		memcpy(w->buf + w->pos, text, n);
		w->pos += n;
	} else {
		w->full = true;
	}
}
/* ---- formatting into reserved room --------------------------------------------------------
 * For a producer whose text has a known most size (the EVE flow record): one check reserves the
 * room, the weir_json_put_* functions write into it with no check of their own and return the
 * end of what they wrote, and weir_json_commit adds it to the text. */

/** Points at room for max bytes at the end of the text (the NUL's byte kept apart), or returns
 *  NULL when they do not fit; either way nothing is written yet and w is unchanged. */
static inline char *weir_json_reserve(const struct weir_json *w, size_t max)
{
	return !w->full && max < w->cap - w->pos ? w->buf + w->pos : NULL;
}
/** Adds what was written from the room weir_json_reserve gave up to end (at most max bytes). */
static inline void weir_json_commit(struct weir_json *w, const char *end)
{
	const size_t n = (size_t)(end - (w->buf + w->pos));
	w->pos += n;
	w->len += n;
}
/** Copies a string literal to p, a copy of fixed size; evaluates to the end. */
#define WEIR_JSON_PUT_LIT(p, lit) ((char *)memcpy((p), "" lit, sizeof(lit) - 1) + sizeof(lit) - 1)
/** The most digits of a uint64_t (UINT64_MAX). */
#define WEIR_JSON_U64_DIGITS 20
/** "00" to "99", and 10^0 to 10^19: the tables of the number writers below. */
extern const char weir_json_digit_pairs[200];
extern const uint64_t weir_json_pow10[WEIR_JSON_U64_DIGITS];
/** How many decimal digits v has (1 for 0): its bit length times log10(2) (1233 / 4096, just
 *  below it) is the digit count or one less, and one comparison with a power of ten tells which. */
static inline unsigned weir_json_u64_digits(uint64_t v)
{
	const unsigned t = (unsigned)((64 - __builtin_clzll(v | 1)) * 1233) >> 12;
	return t + ((v | 1) >= weir_json_pow10[t]);
}
/** Writes the n lowest decimal digits of v at p, zero-padded (n at most 20); returns p + n. Two
 *  digits per division by 100 halve the divisions. */
static inline char *weir_json_put_fixed(char *p, uint64_t v, unsigned n)
{
	char *q = p + n;
	while (q - p >= 2) {
		q -= 2;
		memcpy(q, weir_json_digit_pairs + 2 * (v % 100), 2);
		v /= 100;
	}
	if (q > p)
		*p = (char)('0' + v % 10);
	return p + n;
}
/** weir_json_put_fixed for v below 2^32, n at most 10: 32-bit divisions are cheaper. */
static inline char *weir_json_put_fixed32(char *p, uint32_t v, unsigned n)
{
	char *q = p + n;
	while (v >= 100) {
		q -= 2;
		memcpy(q, weir_json_digit_pairs + 2 * (v % 100), 2);
		v /= 100;
	}
	if (v >= 10) {
		q -= 2;
		memcpy(q, weir_json_digit_pairs + 2 * v, 2);
	} else {
		*--q = (char)('0' + v);
	}
	while (q > p)
		*--q = '0';
	return p + n;
}
/** Writes v in decimal at p (at most 20 bytes); returns the end. */
static inline char *weir_json_put_u64(char *p, uint64_t v)
{
	/* most counters of most records are 0 or another single digit */
	if (v < 10) {
		*p = (char)('0' + v);
		return p + 1;
	}
	if (v < 100)
		return (char *)memcpy(p, weir_json_digit_pairs + 2 * v, 2) + 2;
	if (v < 10000) { /* ports, and the flow ids of a short run: a digit or a pair, and a pair */
		const unsigned hi = (unsigned)v / 100, lo = (unsigned)v % 100;
		if (hi < 10)
			*p++ = (char)('0' + hi);
		else
			p = (char *)memcpy(p, weir_json_digit_pairs + 2 * hi, 2) + 2;
		return (char *)memcpy(p, weir_json_digit_pairs + 2 * lo, 2) + 2;
	}
	if (v <= UINT32_MAX)
		return weir_json_put_fixed32(p, (uint32_t)v, weir_json_u64_digits(v));
	return weir_json_put_fixed(p, v, weir_json_u64_digits(v));
}
/** Writes the n bytes at s (or those before a NUL among them) quoted at p, at most n + 2 bytes,
 *  when none of them needs weir_json_str's escaping (printable ASCII but '"' and '\'); returns
 *  the end, or NULL when one does (what was written at p is then to be overwritten). */
static inline char *weir_json_put_plain(char *p, const char *s, size_t n)
{
	*p++ = '"';
	for (size_t i = 0; i < n && s[i]; i++) {
		const unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
			return NULL;
		*p++ = (char)c;
	}
	*p++ = '"';
	return p;
}

/** Appends a string literal of JSON text (its length known at compile time). */
#define WEIR_JSON_LIT(w, lit) weir_json_raw((w), "" lit, sizeof(lit) - 1)
/** Appends a string literal of JSON text (a key with its separators), then v in decimal. */
#define WEIR_JSON_KV(w, lit, v) (WEIR_JSON_LIT(w, lit), weir_json_u64((w), (v)))
/** Appends v in decimal. */
void weir_json_u64(struct weir_json *w, uint64_t v);
/** Appends v in decimal, zero-padded on the left to at least width digits (at most 20). */
void weir_json_u64_pad(struct weir_json *w, uint64_t v, unsigned width);
/** Appends the n bytes at s as a quoted JSON string, escaped as described above (s may be NULL when
 * n is 0). */
void weir_json_str(struct weir_json *w, const char *s, size_t n);
/** weir_json_str of a NUL-terminated string; NULL is written as "". */
void weir_json_cstr(struct weir_json *w, const char *s);
/** Writes s (NUL-terminated; NULL as "") to out as a quoted JSON string, escaped as above, for
 *  producers that print to a stream. Returns 0, -ENOMEM (nothing written), or -EIO. */
int weir_json_fstr(FILE *out, const char *s);
/** NUL-terminates what was written. Returns the text's length, or -ENOSPC when it did not fit
 *  (buf then holds "" when cap > 0; len still tells the size needed without the NUL). */
static inline int weir_json_end(struct weir_json *w)
{
	if (!w->cap)
		return -ENOSPC;
	if (w->full) {
		w->buf[0] = '\0';
		return -ENOSPC;
	}
	w->buf[w->pos] = '\0';
	return (int)w->pos;
}

#endif
