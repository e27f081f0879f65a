/* fuzz_config.c — libFuzzer target: the configuration loader on a config text. A refusal must
 * name the config and a line, as weir run and weir check report it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	/* Script names are looked up in directories that do not exist: only the lookup runs. */
	static const struct weir_script_dirs dirs = {"/nonexistent/site", "/nonexistent/shipped"};
	struct weir_run_config *c = malloc(sizeof(*c));
	char err[512];
	if (c) {
		err[0] = '\0';
		if (weir_run_config_load_dirs(c, text, "fuzz.lua", &dirs, err, sizeof(err)) != 0 &&
		    strncmp(err, "fuzz.lua", 8) != 0)
			__builtin_trap(); /* every message starts with the file's name */
		free(c);
	}
	free(text);
	return 0;
}
