/* token.c — the one rule for a dashboard token, whichever way it comes in (config file, --serve-token,
 * $WEIR_DASHBOARD_TOKEN, the web server itself). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config/config.h"

int weir_token_check(const char *token, char *err, size_t errlen)
{
	const size_t n = token ? strlen(token) : 0;
	if (n < WEIR_TOKEN_MIN) {
		snprintf(err, errlen, "shorter than %d characters", WEIR_TOKEN_MIN);
		return -EINVAL;
	}
	if (n > WEIR_TOKEN_MAX) {
		snprintf(err, errlen, "longer than %d characters", WEIR_TOKEN_MAX);
		return -EINVAL;
	}
	for (const char *t = token; *t; t++) {
		if (!((*t >= 'a' && *t <= 'z') || (*t >= 'A' && *t <= 'Z') ||
		      (*t >= '0' && *t <= '9') || strchr("-._~+/=", *t))) {
			snprintf(err, errlen, "may only hold letters, digits and -._~+/=");
			return -EINVAL;
		}
	}
	return 0;
}
