/* names.h — weir's names with their lengths, for writers that copy them without strlen. */
#ifndef WEIR_NAMES_H
#define WEIR_NAMES_H

#include <stdint.h>

#include "weir.h"

/** A name padded with NULs to a fixed size, so that a writer may copy all WEIR_NAME_PAD bytes
 *  with one fixed-size copy (into room it has for them) and then advance by n. */
#define WEIR_NAME_PAD 16
struct weir_name {
	char s[WEIR_NAME_PAD]; /**< NUL-terminated */
	uint8_t n;             /**< strlen(s) */
};
/** A struct weir_name initializer; a literal too long for s (NUL included) does not compile. */
#define WEIR_NAME(lit)                                                                             \
	{                                                                                          \
		lit, sizeof(lit) - 1 + 0 * sizeof(char[sizeof(lit) <= WEIR_NAME_PAD ? 1 : -1])     \
	}

/** The tables of weir_tcp_state_name and weir_close_reason_name; their last entry is "unknown". */
extern const struct weir_name weir_tcp_state_names[WEIR_TCP_STATE_COUNT + 1];
extern const struct weir_name weir_close_reason_names[WEIR_CLOSE_COUNT + 1];
/** The table of weir_tunnel_name; its last entry is "unknown". */
extern const struct weir_name weir_tunnel_names[WEIR_TUN_COUNT + 1];

/** weir_tcp_state_name and weir_close_reason_name with their lengths ("unknown" out of range);
 *  inline, for the EVE writer's hot path. */
static inline const struct weir_name *weir_tcp_state_name_n(unsigned state)
{
	return &weir_tcp_state_names[state < WEIR_TCP_STATE_COUNT ? state : WEIR_TCP_STATE_COUNT];
}
static inline const struct weir_name *weir_close_reason_name_n(unsigned reason)
{
	return &weir_close_reason_names[reason < WEIR_CLOSE_COUNT ? reason : WEIR_CLOSE_COUNT];
}

/** weir_tunnel_name with its length ("unknown" out of range). */
static inline const struct weir_name *weir_tunnel_name_n(unsigned tunnel)
{
	return &weir_tunnel_names[tunnel < WEIR_TUN_COUNT ? tunnel : WEIR_TUN_COUNT];
}

#endif
