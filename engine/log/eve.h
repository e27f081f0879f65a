/* eve.h — EVE-style JSON flow records, with Zeek conn.log fields under Zeek's names and meaning. */
#ifndef WEIR_EVE_H
#define WEIR_EVE_H

#include <stddef.h>

#include "weir.h"
#include "json/json.h"

/** Zeek's conn_state for the record ("S0", "SF", "REJ", ... "OTH"), from both sides' zflags and
 *  final states, following Zeek's base/protocols/conn/main.zeek. */
const char *weir_zeek_conn_state(const struct weir_flow_record *rec);
/** Writes rec as one EVE JSON line ending in '\n' into buf. Returns its length, or -ENOSPC when
 *  len is too small (WEIR_EVE_LINE_MAX always suffices). */
int weir_eve_flow(char *buf, size_t len, const struct weir_flow_record *rec);
#define WEIR_EVE_LINE_MAX 4096
/** The room weir_eve_flow reserves at once for a record's text before its history: 1,5xx bytes
 *  when every counter has 20 digits, both addresses are IPv6 texts and two VLAN tags are present
 *  (test_eve's worst case measures it), plus the WEIR_NAME_PAD bytes a name copy may write past
 *  its end. A smaller buffer is served through a WEIR_EVE_LINE_MAX one, copied whole or not. */
#define WEIR_EVE_FIXED_MAX 2048
/** Formats ns since the epoch as "2026-11-28T01:45:05.123456+0000" (EVE's timestamp form). */
void weir_eve_time(char *buf, size_t len, uint64_t ns);
/** Writes ns as a quoted EVE timestamp (the form of weir_eve_time). */
void weir_eve_json_time(struct weir_json *w, uint64_t ns);
/** Writes the address ip as a quoted string: dotted decimal when ver is 4, else IPv6 text. */
void weir_eve_json_addr(struct weir_json *w, const uint8_t *ip, uint8_t ver);

#endif
