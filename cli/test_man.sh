#!/bin/bash
# test_man.sh WEIR PAGE CLI_H BUILD MANDIR — weir(8) against the tables it is printed from (label
# "unit"): PAGE (the build's weir.8) is what `WEIR help --man` prints; groff and man (as lintian
# runs it) read it without a warning; each command's subsection shows, as --help does, every
# option row of that command's --help (the left column: "-s, --script FILE.lua") and each form of
# its usage is in SYNOPSIS; EXIT STATUS lists every code CLI_H defines and --help names; and
# `cmake --install BUILD` with a DESTDIR installs PAGE unchanged as MANDIR/man8/weir.8.
set -euo pipefail
weir=$1 page=$2 cli_h=$3 build=$4 mandir=$5
bad=0
fail() {
	echo "test_man: FAIL: $*" >&2
	bad=1
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$weir" help --man >"$tmp/printed"
cmp -s "$tmp/printed" "$page" || fail "$page is not what weir help --man prints (rebuild)"

groff -man -ww -z "$page" >"$tmp/groff" 2>&1 || fail "groff exit $?"
[ ! -s "$tmp/groff" ] || fail "groff -man -ww: $(cat "$tmp/groff")"
# lintian's manpage-has-errors-from-man runs exactly this.
LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$page" \
	2>"$tmp/man.err" >/dev/null || fail "man --warnings exit $?"
[ ! -s "$tmp/man.err" ] || fail "man --warnings: $(cat "$tmp/man.err")"

# The page as a reader sees it; lines wide enough that no option row wraps.
LC_ALL=C.UTF-8 MANWIDTH=200 man -E UTF-8 -l "$page" >"$tmp/text"
section() { # section HEADING: its lines, unindented, up to the next section or subsection heading
	awk -v h="$1" 'found && /^(   )?[^ ]/ {exit} found {sub(/^ +/, ""); print}
		{l = $0; sub(/^ +/, "", l)} /^(   )?[^ ]/ && l == h {found = 1}' "$tmp/text"
}
has_tag() { # has_tag TAG FILE: a line of FILE is TAG, or (a TAG narrower than the 7-column
	# indent) TAG then its paragraph on the same line
	awk -v t="$1" '$0 == t || (length(t) < 7 && index($0, t " ") == 1) {found = 1}
		END {exit !found}' "$2"
}

# The commands, as weir --help lists them: "  NAME     about".
cmds=$("$weir" --help | sed -n '/^commands:$/,/^[^ ]/s/^  \([a-z]*\) .*/\1/p')
[ "$(echo "$cmds" | wc -w)" -ge 5 ] || fail "weir --help lists only: $cmds"
section SYNOPSIS >"$tmp/synopsis"
n_rows=0
for c in $cmds; do
	"$weir" "$c" --help >"$tmp/help"
	usage=$(sed -n 's/^usage: //p' "$tmp/help")
	echo "$usage" | sed 's/ | /\n/g' | while IFS= read -r form; do
		grep -qxF -- "$form" "$tmp/synopsis" || echo "SYNOPSIS lacks '$form'"
	done >"$tmp/missing"
	section "weir $c" >"$tmp/sub"
	[ -s "$tmp/sub" ] || fail "no subsection 'weir $c'"
	# Option rows of --help: "  -s, --script FILE.lua run ..." → "-s, --script FILE.lua".
	while IFS= read -r row; do
		n_rows=$((n_rows + 1))
		has_tag "$row" "$tmp/sub" || echo "weir $c: the subsection lacks the option '$row'"
	done < <(sed -n 's/^  \(\(-[A-Za-z], \)\{0,1\}--[a-z][a-z-]*\( [^ ][^ ]*\)\{0,1\}\).*/\1/p' "$tmp/help") \
		>>"$tmp/missing"
	if [ -s "$tmp/missing" ]; then
		fail "$(cat "$tmp/missing")"
	fi
done
[ "$n_rows" -ge 25 ] || fail "only $n_rows option rows found in the commands' --help"

section "EXIT STATUS" >"$tmp/exits"
codes=$(sed -n 's/^#define WEIR_EX_[A-Z]* *\([0-9]*\)$/\1/p' "$cli_h")
[ "$(echo "$codes" | wc -w)" -ge 8 ] || fail "only these exit codes in $cli_h: $codes"
for code in $codes; do
	has_tag "$code" "$tmp/exits" || fail "EXIT STATUS lacks $code"
	"$weir" --help | grep -qE "[: ]$code [a-z]" || fail "weir --help does not name exit $code"
done
for s in FILES SIGNALS ENVIRONMENT "SEE ALSO"; do
	[ -n "$(section "$s")" ] || fail "no $s section"
done

DESTDIR=$tmp/root cmake --install "$build" >/dev/null
cmp "$page" "$tmp/root$mandir/man8/weir.8" || fail "the installed weir.8 differs from $page"

[ "$bad" = 0 ] && echo "test_man: ok ($(echo "$cmds" | wc -w) commands, $n_rows option rows, $(echo "$codes" | wc -w) exit codes)"
exit "$bad"
