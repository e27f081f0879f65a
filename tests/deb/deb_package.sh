#!/bin/bash
# deb_package.sh SRC WEIR DEBDIR — the Debian package end to end (label "deb", needs root and
# /tmp/weir-shared.lock): the package packaging/build-deb made in DEBDIR (the deb_build test),
# lintian with no error and no warning, apt-get install, the installed files as expected,
# `weir --version`, `weir check` of the shipped scripts, a replay of tests/data/sample.pcap with
# the installed binary and scripts (the same EVE records and stdout as WEIR, the build tree's
# binary, gives), then apt-get purge leaves nothing of weir behind and
# the same set of installed packages as before. The trap purges on any failure. Also: the unit
# (systemd-analyze verify, enabled), the weir system user, the logrotate file, script lookup in
# /etc/weir/scripts then /usr/share/weir/scripts, the shipped config's exit 78, and the unit's
# capabilities enough and each needed (caps.sh). The user weir stays after purge (Debian's
# convention: its files may outlive the package).
set -euo pipefail
src=$1
weir_built=$2
debdir=$3
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

deb=$(echo "$debdir"/weir_*_*.deb)
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
	echo /etc/logrotate.d/weir
	echo /lib/systemd/system/weir.service
	echo /usr/lib/sysusers.d/weir.conf
	echo /usr/share/lintian/overrides/weir
	echo /usr/share/man/man8/weir.8.gz
	for f in "$src"/scripts/*.lua; do echo "/usr/share/weir/scripts/$(basename "$f")"; done
	for f in ARCHITECTURE.md.gz README.md.gz SECURITY.md.gz changelog.Debian.gz copyright lua-api.md.gz; do
		echo "/usr/share/doc/weir/$f"
	done
} | sort >"$tmp/files.expected"
dpkg -L weir | while read -r f; do [ -d "$f" ] || echo "$f"; done | sort >"$tmp/files.actual"
diff -u "$tmp/files.expected" "$tmp/files.actual" || fail "dpkg -L weir differs from the expected files"
[ "$(sort /var/lib/dpkg/info/weir.conffiles | tr '\n' ' ')" = "/etc/logrotate.d/weir /etc/weir/weir.lua " ] ||
	fail "the conffiles are not /etc/weir/weir.lua and /etc/logrotate.d/weir: $(cat /var/lib/dpkg/info/weir.conffiles)"

# The system user: below the first regular uid, no login, the StateDirectory as home.
IFS=: read -r _ _ uid gid _ home shell <<<"$(getent passwd weir)" || fail "no user weir after install"
login_defs_uid_min=$(awk '$1 == "UID_MIN" {print $2}' /etc/login.defs)
[ "$uid" -lt "${login_defs_uid_min:-1000}" ] || fail "weir is not a system user (uid $uid)"
[ "$(getent group weir | cut -d: -f3)" = "$gid" ] || fail "weir's group is not weir"
[ "$home" = /var/lib/weir ] && [ "$shell" = /usr/sbin/nologin ] || fail "weir's home $home or shell $shell"

# The unit: systemd-analyze verify says nothing about it (its Documentation=man:weir(8) included:
# the page is installed). Its verdict is given at the end, so that every other check runs whatever it says.
unit=/lib/systemd/system/weir.service
verify_rc=0
systemd-analyze verify "$unit" >"$tmp/verify.txt" 2>&1 || verify_rc=$?
[ -L /etc/systemd/system/multi-user.target.wants/weir.service ] || fail "weir.service is not enabled"
logrotate -d /etc/logrotate.d/weir >"$tmp/logrotate.txt" 2>&1 || {
	cat "$tmp/logrotate.txt" >&2
	fail "logrotate -d /etc/logrotate.d/weir"
}
grep -q "considering log /var/log/weir/eve.json" "$tmp/logrotate.txt" || fail "logrotate does not rotate the EVE log"

zcat /usr/share/man/man8/weir.8.gz | cmp - <("$weir_built" help --man) ||
	fail "the installed weir(8) differs from the build's"
[ "$(command -v weir)" = /usr/bin/weir ] || fail "weir on PATH is not /usr/bin/weir"
[ "$(/usr/bin/weir --version)" = "weir ${version%-*}" ] || fail "weir --version is not 'weir ${version%-*}'"
/usr/bin/weir check /usr/share/weir/scripts/*.lua || fail "weir check of the shipped scripts"
# The shipped config names no interface: check (the unit's ExecStartPre) stops with EX_CONFIG, no
# restart loop (RestartPreventExitStatus=78), and says what to edit.
rc=0
/usr/bin/weir check -c /etc/weir/weir.lua >/dev/null 2>"$tmp/check.err" || rc=$?
[ $rc = 78 ] || fail "weir check -c /etc/weir/weir.lua exited $rc, want 78"
grep -qF "no interface configured: edit /etc/weir/weir.lua (dpdk.ports)" "$tmp/check.err" ||
	fail "weir check -c /etc/weir/weir.lua: $(cat "$tmp/check.err")"
grep -qx "RestartPreventExitStatus=78" "$unit" || fail "the unit restarts on exit 78"
# With ports and a shipped script named by its file name, the config loads and the listing names
# the shipped file (and a site script of the same name wins once it is there).
# (scripts is edited in place: a setting given a second, different value is an error)
sed "s/^scripts = {}/scripts = { 'syn_retx.lua' }/" /etc/weir/weir.lua >"$tmp/ports.lua"
grep -q "^scripts = { 'syn_retx.lua' }" "$tmp/ports.lua" || fail "the shipped config has no 'scripts = {}' line"
printf '%s\n' "dpdk.ports = { 'net_null0', 'net_null1' }" >>"$tmp/ports.lua"
/usr/bin/weir check -c "$tmp/ports.lua" | grep -qF 'scripts = { "/usr/share/weir/scripts/syn_retx.lua" }' ||
	fail "weir check -c does not list the shipped script /usr/share/weir/scripts/syn_retx.lua"
mkdir /etc/weir/scripts
cp /usr/share/weir/scripts/syn_retx.lua /etc/weir/scripts/
/usr/bin/weir check -c "$tmp/ports.lua" | grep -qF 'scripts = { "/etc/weir/scripts/syn_retx.lua" }' ||
	fail "weir check -c does not list the site script /etc/weir/scripts/syn_retx.lua"
rm -r /etc/weir/scripts

bash "$src/tests/deb/caps.sh" "$src" "$unit" || fail "the unit's capabilities"

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
for p in /usr/bin/weir /etc/weir /usr/share/weir /usr/share/doc/weir /usr/share/lintian/overrides/weir /usr/share/man/man8/weir.8.gz \
	/etc/logrotate.d/weir "$unit" /usr/lib/sysusers.d/weir.conf /etc/systemd/system/multi-user.target.wants/weir.service; do
	[ ! -e "$p" ] || fail "$p is left after apt-get purge weir"
done
installed_packages | diff -u "$before" - || fail "the installed packages differ from before the test"
if [ $verify_rc != 0 ] || grep -q weir "$tmp/verify.txt"; then
	cat "$tmp/verify.txt" >&2
	fail "systemd-analyze verify $unit (exit $verify_rc)"
fi
echo "deb_package: ok ($(basename "$deb"))"
