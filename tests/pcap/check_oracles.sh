#!/bin/sh
# check_oracles.sh — compares every case's expect.json with tshark's view of its capture (run by hand; output recorded in README.md).
# Usage: tests/pcap/check_oracles.sh   Exits 1 if any difference is not explained by the case's oracle notes.
set -u
here=$(cd "$(dirname "$0")" && pwd)
command -v tshark >/dev/null || { echo "tshark not found" >&2; exit 2; }
tshark --version 2>/dev/null | head -1
status=0
for exp in "$here"/*/expect.json; do
	out=$(python3 "$here/oracle.py" "$(dirname "$exp")" 2>&1) || status=1
	printf '%s\n' "$out" | grep -v '^Running as user'
done
[ $status -eq 0 ] && echo "all expectations agree with tshark or differ for the stated reasons" \
	|| echo "UNEXPLAINED DIFFERENCES above"
exit $status
