/* sbuf.h — the web server's growable text buffer: the bottom of web/, depending on no other part. */
#ifndef WEIR_WEB_SBUF_H
#define WEIR_WEB_SBUF_H

#include <stddef.h>

/** A growable string; oom is set (and appends stop) when memory runs out. */
struct weir_sbuf {
	char *p;
	size_t len, cap;
	int oom;
};

void weir_sb_printf(struct weir_sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/** Makes room for more bytes and a NUL after the text. Returns where they go (the caller writes
 *  there and adds what it wrote to len), or NULL when memory ran out (oom is then set). */
char *weir_sb_room(struct weir_sbuf *b, size_t more);
void weir_sb_free(struct weir_sbuf *b);

#endif
