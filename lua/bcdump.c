/* bcdump.c — build tool: compiles a Lua source to LuaJIT bytecode (debug info kept, so errors and
 * debug.getinfo still name chunk:line), so the weir binary loads weir.lua without parsing it at
 * every start. Usage: bcdump CHUNKNAME IN OUT (CHUNKNAME as luaL_loadbuffer takes it: "@weir.lua").
 */
#include <stdio.h>
#include <stdlib.h>

#include <lauxlib.h>
#include <lua.h>

static int write_chunk(lua_State *L, const void *p, size_t n, void *out)
{
	(void)L;
	return fwrite(p, 1, n, out) == n ? 0 : 1;
}

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = NULL;
	size_t cap = 0, n = 0, got;
	do {
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			char *b = realloc(buf, cap);
			if (!b) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = b;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got);
	const int bad = ferror(f);
	fclose(f);
	if (bad) {
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: bcdump CHUNKNAME IN OUT\n");
		return 64;
	}
	size_t len = 0;
	char *src = read_all(argv[2], &len);
	if (!src) {
		perror(argv[2]);
		return 1;
	}
	lua_State *L = luaL_newstate();
	if (!L) {
		fprintf(stderr, "bcdump: no Lua state\n");
		free(src);
		return 1;
	}
	int rc = 1;
	FILE *out = NULL;
	/* Source only: the input is one of weir's own files, never bytecode. */
	if (luaL_loadbufferx(L, src, len, argv[1], "t") != 0) {
		fprintf(stderr, "bcdump: %s\n", lua_tostring(L, -1));
	} else if (!(out = fopen(argv[3], "wb"))) {
		perror(argv[3]);
	} else if (lua_dump(L, write_chunk, out) != 0) {
		fprintf(stderr, "bcdump: cannot write %s\n", argv[3]);
	} else {
		rc = 0;
	}
	if (out && fclose(out) != 0)
		rc = 1;
	lua_close(L);
	free(src);
	return rc;
}
