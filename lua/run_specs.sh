#!/bin/sh
# run_specs.sh — runs the busted specs of the Lua API and the shipped scripts against a built weir binary.
# Usage (from the repository root): lua/run_specs.sh BUILD/bin/weir. busted's exit code decides.
# A missing tool fails the run with its name (the tools come from packaging/install-deps --test).
set -e
missing() {
	echo "FAIL: $1 is missing: the Lua specs need it; install the test tools with packaging/install-deps --test" >&2
	exit 1
}
for t in busted luajit tshark editcap; do command -v "$t" >/dev/null || missing "$t"; done
luajit -e 'require "dkjson"' 2>/dev/null || missing "the Lua module dkjson (Debian package lua-dkjson)"
WEIR_BIN=$(realpath "${1:?usage: run_specs.sh path/to/weir}")
export WEIR_BIN
exec busted --lua=luajit lua/spec scripts/spec
