# gen_cdef.cmake — turns plain-C headers into the Lua FFI declarations (weir_cdef.lua) and a C table
# that references every declared function, so the linker keeps them all for ffi.C.
# Usage: cmake -DHEADERS="a.h|b.h" -DOUT_LUA=weir_cdef.lua -DOUT_C=weir_ffi_syms.c -P gen_cdef.cmake
# The headers must be plain C: no macros besides the include guard and #include lines, no
# bitfields, no structs passed by value. Anything else left over is an error, not a silent skip.
string(REPLACE "|" ";" HEADERS "${HEADERS}")
set(text "")
foreach(h IN LISTS HEADERS)
  file(READ "${h}" body)
  string(APPEND text "${body}\n")
endforeach()

# Block comments: replace "*/" by a byte that never occurs in a header, then drop each
# "/*" up to it (a CMake regex has no non-greedy match).
string(ASCII 1 mark)
string(REPLACE "*/" "${mark}" text "${text}")
string(REGEX REPLACE "/\\*[^${mark}]*${mark}" "" text "${text}")
string(REGEX REPLACE "//[^\n]*" "" text "${text}")
# Preprocessor lines: only the guard and includes are allowed.
string(REGEX MATCHALL "#[ \t]*[a-z]+[^\n]*" pp "${text}")
foreach(line IN LISTS pp)
  if(NOT line MATCHES "^#[ \t]*(include|ifndef|endif|define [A-Z_]+_H$)")
    message(FATAL_ERROR "gen_cdef: not plain C, cannot go to the FFI: ${line}")
  endif()
endforeach()
string(REGEX REPLACE "#[^\n]*" "" text "${text}")
string(REGEX REPLACE "[ \t]*\n([ \t]*\n)+" "\n" text "${text}")
if(text MATCHES "\\[\\[|\\]\\]")
  message(FATAL_ERROR "gen_cdef: ']]' would end the Lua long string")
endif()

# Functions: "name(" not preceded by "(*" (function pointer typedefs).
string(REGEX MATCHALL "[A-Za-z_0-9]+\\(" calls "${text}")
set(syms "")
foreach(c IN LISTS calls)
  string(REGEX REPLACE "\\($" "" name "${c}")
  if(name MATCHES "^weir_" AND NOT name MATCHES "_fn$")
    list(APPEND syms "${name}")
  endif()
endforeach()
list(REMOVE_DUPLICATES syms)

# LuaJIT knows the <stdint.h>, <stddef.h> and <stdbool.h> types but not ssize_t.
file(WRITE "${OUT_LUA}.tmp"
  "-- Generated at build time by lua/gen_cdef.cmake from ${HEADERS}. Do not edit.\n"
  "return [[\ntypedef intptr_t ssize_t;\n${text}]]\n")
file(COPY_FILE "${OUT_LUA}.tmp" "${OUT_LUA}" ONLY_IF_DIFFERENT)

set(c "/* Generated at build time by lua/gen_cdef.cmake: every function the FFI declares, so the linker keeps it. */\n")
string(APPEND c "#include \"weir.h\"\n#include \"lua/host.h\"\n\n")
string(APPEND c "/* Function pointers as data: gcc allows the conversion to void * (POSIX requires it for dlsym). */\n")
string(APPEND c "const void *const weir_lua_ffi_syms[] = {\n")
foreach(s IN LISTS syms)
  string(APPEND c "\t(const void *)${s},\n")
endforeach()
string(APPEND c "};\nconst unsigned weir_lua_ffi_nsyms = sizeof(weir_lua_ffi_syms) / sizeof(weir_lua_ffi_syms[0]);\n")
file(WRITE "${OUT_C}.tmp" "${c}")
file(COPY_FILE "${OUT_C}.tmp" "${OUT_C}" ONLY_IF_DIFFERENT)
