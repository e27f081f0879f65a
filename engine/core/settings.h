/* settings.h — weir's settings as one table (name, type, default, bounds, unit, one-line doc): the
 * defaults, the config reader, `weir check` and the documentation all come from it. */
#ifndef WEIR_SETTINGS_H
#define WEIR_SETTINGS_H

#include <stddef.h>

#include "weir.h"

/** How a setting is written in a config and stored in its struct. */
enum weir_setting_type {
	WEIR_SET_UINT,    /**< a whole number; stored as uint32_t or uint64_t (size) */
	WEIR_SET_SECONDS, /**< seconds, fractions allowed; stored as uint32_t milliseconds */
	WEIR_SET_BOOL,    /**< true or false; stored as uint8_t */
	WEIR_SET_ENUM,    /**< one of names; stored as uint8_t, the name's index */
};

/** One setting: a field of a config struct. Values are in the config's unit (seconds, not ms). */
struct weir_setting {
	const char *name; /**< as written in the config: "flows.handshake_timeout" */
	enum weir_setting_type type;
	size_t offset, size;      /**< the field in its struct */
	double def, lo, hi;       /**< the default and the accepted range */
	const char *const *names; /**< WEIR_SET_ENUM: the values' names, by stored value */
	const char *unit;         /**< "s", "bytes", ... ("" for enums and booleans) */
	const char *doc;          /**< one line: what it does, and why the default */
};

/** The engine's settings (struct weir_config) in documentation order; *n is set to their count. */
const struct weir_setting *weir_engine_settings(unsigned *n);
/** The engine setting called name ("flows.max"); NULL when there is none. */
const struct weir_setting *weir_engine_setting(const char *name);
/** Sets the field of s in the struct at base to v (a value within the setting's range). */
void weir_setting_store(const struct weir_setting *s, void *base, double v);
/** The field of s in the struct at base, in the config's unit. */
double weir_setting_value(const struct weir_setting *s, const void *base);
/** Sets every setting of the table in the struct at base to its default. */
void weir_settings_apply_defaults(const struct weir_setting *t, unsigned n, void *base);

/** The stream memory cap that streams.memcap = 0 stands for: two first-size rings per flow, so
 *  every tracked flow can buffer both sides (2 GiB at the default 65,536 flows). */
uint64_t weir_config_derived_memcap(const struct weir_config *cfg);

#endif
