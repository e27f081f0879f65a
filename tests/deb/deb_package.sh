#!/bin/bash
# deb_package.sh SRC WEIR — the Debian package end to end (label "deb", needs root and
# /tmp/weir-shared.lock): packaging/build-deb into a temporary directory (its own copy of the tree:
# no collision with the build directories), lintian with no error and no warning, apt-get install,
# the installed files as expected, `weir --version`, `weir check` of the shipped scripts, a replay
# of tests/data/sample.pcap with the installed binary and scripts (the same EVE records and stdout
# as WEIR, the build tree's binary, gives), then apt-get purge leaves nothing of weir behind and
# the same set of installed packages as before. The trap purges on any failure.
set -euo pipefail
src=$1
weir_built=$2
fail() {
	echo "deb_package: FAIL: $*" >&2
	exit 1
}
installed_packages() { dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' | grep '^ii' | sort; }

# A weir installed before the test would be purged by it: refuse rather than change the machine.
if dpkg-query -W -f='${db:Status-Abbrev}' weir 2>/dev/null | grep -q '^[ic]'; then
	fail "a weir package is already installed; purge it first (apt-get purge weir)"
fi
tmp=$(mktemp -d)
before=$tmp/packages.before
installed_packages >"$before"
cleanup() {
	if dpkg-query -W -f='${db:Status-Abbrev}' weir 2>/dev/null | grep -q '^[ic]'; then
		DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq weir >/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

"$src/packaging/build-deb" "$tmp/out" >"$tmp/build.log" 2>&1 || {
	tail -30 "$tmp/build.log" >&2
	fail "packaging/build-deb failed"
}
deb=$(echo "$tmp"/out/weir_*_*.deb)
[ -f "$deb" ] || fail "no weir_<version>_<arch>.deb in the output directory"
version=$(dpkg-deb -f "$deb" Version)
[ "$(basename "$deb")" = "weir_${version}_$(dpkg --print-architecture).deb" ] ||
	fail "unexpected file name $(basename "$deb")"

lintian --fail-on error,warning "$deb" >"$tmp/lintian.txt" 2>&1 || {
	cat "$tmp/lintian.txt" >&2
	fail "lintian reports errors or warnings"
}

DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$deb" >"$tmp/apt.log" 2>&1 || {
	cat "$tmp/apt.log" >&2
	fail "apt-get install $deb failed"
}

# The package's files (not directories) are exactly these.
{
	echo /usr/bin/weir
	echo /etc/weir/weir.lua
	echo /usr/share/lintian/overrides/weir
	for f in "$src"/scripts/*.lua; do echo "/usr/share/weir/scripts/$(basename "$f")"; done
	for f in ARCHITECTURE.md.gz README.md.gz changelog.Debian.gz copyright lua-api.md.gz; do
		echo "/usr/share/doc/weir/$f"
	done
} | sort >"$tmp/files.expected"
dpkg -L weir | while read -r f; do [ -d "$f" ] || echo "$f"; done | sort >"$tmp/files.actual"
diff -u "$tmp/files.expected" "$tmp/files.actual" || fail "dpkg -L weir differs from the expected files"
[ "$(cat /var/lib/dpkg/info/weir.conffiles)" = /etc/weir/weir.lua ] || fail "/etc/weir/weir.lua is not the conffile"

[ "$(command -v weir)" = /usr/bin/weir ] || fail "weir on PATH is not /usr/bin/weir"
[ "$(/usr/bin/weir --version)" = "weir ${version%-*}" ] || fail "weir --version is not 'weir ${version%-*}'"
/usr/bin/weir check /usr/share/weir/scripts/*.lua || fail "weir check of the shipped scripts"
/usr/bin/weir check -c /etc/weir/weir.lua >/dev/null || fail "weir check -c /etc/weir/weir.lua"

replay() { # replay BINARY SCRIPTDIR NAME: every shipped script over the bundled capture
	local args=()
	for f in "$2"/*.lua; do args+=(-s "$f"); done
	"$1" replay -q "${args[@]}" "$src/tests/data/sample.pcap" --eve "$tmp/$3.eve" >"$tmp/$3.out" ||
		fail "$1 replay failed"
}
replay /usr/bin/weir /usr/share/weir/scripts installed
replay "$weir_built" "$src/scripts" built
for f in eve out; do
	[ -s "$tmp/installed.$f" ] || fail "the installed weir's replay wrote no $f"
done
cmp "$tmp/built.eve" "$tmp/installed.eve" || fail "the installed weir's EVE records differ from the build's"
cmp "$tmp/built.out" "$tmp/installed.out" || fail "the installed weir's output differs from the build's"

DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq weir >"$tmp/apt.log" 2>&1 || {
	cat "$tmp/apt.log" >&2
	fail "apt-get purge weir failed"
}
for p in /usr/bin/weir /etc/weir /usr/share/weir /usr/share/doc/weir /usr/share/lintian/overrides/weir; do
	[ ! -e "$p" ] || fail "$p is left after apt-get purge weir"
done
installed_packages | diff -u "$before" - || fail "the installed packages differ from before the test"
echo "deb_package: ok ($(basename "$deb"))"
