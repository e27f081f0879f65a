/* json.h — the one JSON writer: bounded, streaming output into the caller's buffer, and the one
 * string escaper. */
#ifndef WEIR_JSON_H
#define WEIR_JSON_H

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
void weir_json_init(struct weir_json *w, char *buf, size_t cap);
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
int weir_json_end(struct weir_json *w);

#endif
