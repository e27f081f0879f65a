/* bytes.h — big-endian reads for the packet decoders (parse.c, tunnel.c). */
#ifndef WEIR_PARSE_BYTES_H
#define WEIR_PARSE_BYTES_H

#include <stdint.h>

/* Every read is bounds-checked by the caller against the end of the captured bytes before it
 * happens; these assume that check was made. */
static inline uint16_t rd16(const uint8_t *b)
{
	return (uint16_t)((uint16_t)b[0] << 8 | b[1]);
}

static inline uint32_t rd32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

#endif
