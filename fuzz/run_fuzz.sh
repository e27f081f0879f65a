#!/bin/sh
# run_fuzz.sh FUZZER SECONDS DICT|- CORPUS... — one fuzz target, bounded: first every input of
# fuzz/regress/<target>/ (crashes found before, each must now run clean), then SECONDS of fuzzing
# from the seed corpora. Fails on any crash, sanitizer report, leak or timeout; the input that did
# it is kept in ./crash-<target>-* of the current directory, to be added to fuzz/regress/<target>/.
set -eu
fuzzer=$1
secs=$2
dict=$3
shift 3
name=$(basename "$fuzzer")
regress="$(cd "$(dirname "$0")" && pwd)/regress/$name"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ -d "$regress" ]; then
	echo "$name: the regression inputs of $regress"
	"$fuzzer" -runs=0 "$regress"
fi
mkdir "$work/corpus"
opts=""
[ "$dict" = - ] || opts="-dict=$dict"
echo "$name: fuzzing for $secs s"
rc=0
# The first directory is the working corpus (new inputs go there), the seed corpora after it.
"$fuzzer" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	-artifact_prefix="$(pwd)/crash-$name-" $opts "$work/corpus" "$@" >"$work/log" 2>&1 || rc=$?
tail -n 40 "$work/log"
[ "$rc" -eq 0 ] || echo "$name: FAILED (exit $rc): the input is in $(pwd)/crash-$name-*"
exit "$rc"
