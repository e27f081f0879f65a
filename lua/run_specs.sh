#!/bin/sh
# run_specs.sh — runs the busted specs of the Lua API and the shipped scripts against a built weir binary.
# Usage (from the repository root): lua/run_specs.sh BUILD/bin/weir. busted's exit code decides.
set -e
WEIR_BIN=$(realpath "${1:?usage: run_specs.sh path/to/weir}")
export WEIR_BIN
exec busted --lua=luajit lua/spec scripts/spec
