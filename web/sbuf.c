/* sbuf.c — the web server's growable text buffer, which the model and /metrics render into. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web/sbuf.h"

static int reserve(struct weir_sbuf *b, size_t more)
{
	if (b->oom)
		return -1;
	if (b->len + more + 1 <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < b->len + more + 1)
		cap *= 2;
	char *p = realloc(b->p, cap);
	if (!p) {
		b->oom = 1;
		return -1;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

void weir_sb_printf(struct weir_sbuf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char tmp[512];
	const int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || reserve(b, (size_t)n) != 0)
		return;
	if ((size_t)n < sizeof(tmp)) {
		memcpy(b->p + b->len, tmp, (size_t)n + 1);
	} else {
		va_start(ap, fmt);
		vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

char *weir_sb_room(struct weir_sbuf *b, size_t more)
{
	return reserve(b, more) == 0 ? b->p + b->len : NULL;
}

void weir_sb_free(struct weir_sbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}
