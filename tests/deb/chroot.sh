#!/bin/bash
# chroot.sh SRC CACHE DEBDIR — the package's life on a fresh Debian 12 (label "chroot", root, network access
# to deb.debian.org): a debootstrap --variant=minbase bookworm chroot (made once and kept as
# CACHE/bookworm-minbase.tar, unpacked fresh each run; a missing CACHE makes it anew), where
#   1. apt-get install ./weir_0.1.0-1 (the tree's package, from DEBDIR: the deb_build test) creates the user weir, enables the
#      unit and installs both conffiles;
#   2. the admin edits /etc/weir/weir.lua and /etc/logrotate.d/weir;
#   3. apt-get install of 0.1.1-1 (build-deb with WEIR_DEB_VERSION; same packaged conffiles) keeps
#      both edits with dpkg's default handling, no --force-conf* option, and no prompt (stdin is
#      /dev/null under DEBIAN_FRONTEND=noninteractive); weir --version says 0.1.1;
#   4. apt-get install of 0.1.2-1 (the 0.1.1-1 package with a changed /etc/weir/weir.lua: the
#      packaged and the admin's both changed) with --force-confdef --force-confold, as an appliance
#      upgrades unattended, keeps the admin's file and puts the packaged one beside it as
#      weir.lua.dpkg-dist;
#   5. apt-get purge weir removes /etc/weir (with the .dpkg-dist), the unit and its enablement,
#      the sysusers and logrotate files and every file with weir in its name; what stays is the
#      user and group weir (Debian's convention: files the user owned may outlive the package).
# The mirror not answering is a failure, never a skip.
set -euo pipefail
src=$1
cache=$2
debdir=$3
mirror=http://deb.debian.org/debian
fail() {
	echo "chroot: FAIL: $*" >&2
	exit 1
}
for t in debootstrap chroot dpkg-deb mount; do
	command -v $t >/dev/null || fail "missing tool: $t (packaging/install-deps --test)"
done
t0=$(date +%s)
tmp=$(mktemp -d /var/tmp/weir-chroot.XXXXXX)
root=$tmp/root
cleanup() {
	for m in "$root/proc" "$root/dev/pts"; do
		if mountpoint -q "$m"; then umount "$m"; fi
	done
	rm -rf --one-file-system "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# The packages: this tree's, 0.1.1-1 from it, and 0.1.2-1 with a changed packaged weir.lua.
WEIR_DEB_VERSION=0.1.1-1 "$src/packaging/build-deb" "$tmp/v2" >"$tmp/build.log" 2>&1 || {
	tail -30 "$tmp/build.log" >&2
	fail "WEIR_DEB_VERSION=0.1.1-1 packaging/build-deb"
}
v1=$(echo "$debdir"/weir_*.deb)
v2=$tmp/v2/weir_0.1.1-1_$(dpkg --print-architecture).deb
[ -f "$v1" ] && [ -f "$v2" ] || fail "build-deb made no package"
dpkg-deb -R "$v2" "$tmp/v3"
sed -i 's/^Version: 0.1.1-1$/Version: 0.1.2-1/' "$tmp/v3/DEBIAN/control"
echo "-- packaged change of 0.1.2-1" >>"$tmp/v3/etc/weir/weir.lua"
v3=$tmp/weir_0.1.2-1.deb
dpkg-deb --root-owner-group -b "$tmp/v3" "$v3" >/dev/null

# The chroot: the cached minbase tree, or a new one (which is then cached).
if [ -f "$cache/bookworm-minbase.tar" ]; then
	mkdir "$root"
	tar -C "$root" -xf "$cache/bookworm-minbase.tar"
else
	debootstrap --variant=minbase bookworm "$root" "$mirror" >"$tmp/debootstrap.log" 2>&1 || {
		tail -20 "$tmp/debootstrap.log" >&2
		fail "debootstrap bookworm from $mirror (is the mirror reachable?)"
	}
	mkdir -p "$cache"
	tar -C "$root" -cf "$cache/bookworm-minbase.tar.new" . && mv "$cache/bookworm-minbase.tar.new" "$cache/bookworm-minbase.tar"
fi
t_root=$(date +%s)
cp /etc/resolv.conf "$root/etc/resolv.conf"
mount -t proc proc "$root/proc"
[ -c "$root/dev/null" ] || fail "the chroot has no /dev/null"
cp "$v1" "$v2" "$v3" "$root/tmp/"
in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@" </dev/null; }
apt_log() { # apt_log WHAT ARGS...: apt-get ARGS in the chroot, its output shown on failure
	local what=$1
	shift
	in_root apt-get -y -q "$@" >"$tmp/apt.log" 2>&1 || {
		tail -30 "$tmp/apt.log" >&2
		fail "$what"
	}
}
apt_log "apt-get update in the chroot (is $mirror reachable?)" update
before=$(in_root find / -xdev \( -path /proc -o -path /tmp \) -prune -o -print | sort)

# 1. install
apt_log "apt-get install ./$(basename "$v1")" install "/tmp/$(basename "$v1")"
[ "$(in_root /usr/bin/weir --version)" = "weir 0.1.0" ] || fail "weir --version after install"
in_root getent passwd weir | grep -q ':/var/lib/weir:/usr/sbin/nologin$' || fail "no system user weir"
[ -L "$root/etc/systemd/system/multi-user.target.wants/weir.service" ] || fail "weir.service not enabled"
[ "$(sort "$root/var/lib/dpkg/info/weir.conffiles" | tr '\n' ' ')" = "/etc/logrotate.d/weir /etc/weir/weir.lua " ] ||
	fail "the conffiles: $(cat "$root/var/lib/dpkg/info/weir.conffiles")"

# 2. the admin's edits
printf '%s\n' "dpdk.ports = { 'net_af_packet0,iface=eth1', 'net_af_packet1,iface=eth2' }" >>"$root/etc/weir/weir.lua"
sed -i 's/rotate 14/rotate 30/' "$root/etc/logrotate.d/weir"
cp "$root/etc/weir/weir.lua" "$tmp/admin.lua"
cp "$root/etc/logrotate.d/weir" "$tmp/admin.logrotate"
grep -q "rotate 30" "$tmp/admin.logrotate" || fail "the logrotate edit did not apply"

# 3. upgrade, packaged conffiles unchanged: dpkg's default keeps the admin's, without asking
apt_log "apt-get install ./$(basename "$v2") (no --force-conf*)" install "/tmp/$(basename "$v2")"
[ "$(in_root dpkg-query -W -f='${Version}' weir)" = 0.1.1-1 ] || fail "0.1.1-1 is not installed"
[ "$(in_root /usr/bin/weir --version)" = "weir 0.1.1" ] || fail "weir --version after the upgrade"
cmp -s "$tmp/admin.lua" "$root/etc/weir/weir.lua" || fail "the upgrade changed the admin's weir.lua"
cmp -s "$tmp/admin.logrotate" "$root/etc/logrotate.d/weir" || fail "the upgrade changed the admin's logrotate file"
[ -z "$(find "$root/etc/weir" "$root/etc/logrotate.d" -name '*.dpkg-*')" ] || fail "dpkg left a .dpkg-* file"

# 4. upgrade, both changed: the appliance's unattended options keep the admin's
apt_log "apt-get install ./$(basename "$v3") with --force-confdef --force-confold" \
	-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold install "/tmp/$(basename "$v3")"
[ "$(in_root dpkg-query -W -f='${Version}' weir)" = 0.1.2-1 ] || fail "0.1.2-1 is not installed"
cmp -s "$tmp/admin.lua" "$root/etc/weir/weir.lua" || fail "the upgrade changed the admin's weir.lua"
cmp -s "$tmp/v3/etc/weir/weir.lua" "$root/etc/weir/weir.lua.dpkg-dist" || fail "no packaged weir.lua.dpkg-dist"

# 5. purge
apt_log "apt-get purge weir" purge weir
for p in /etc/weir /usr/bin/weir /usr/share/weir /usr/share/doc/weir /lib/systemd/system/weir.service \
	/etc/systemd/system/multi-user.target.wants/weir.service /usr/lib/sysusers.d/weir.conf /etc/logrotate.d/weir; do
	[ ! -e "$root$p" ] && [ ! -L "$root$p" ] || fail "$p is left after apt-get purge weir"
done
# Paths new since before the install are the dependencies' and apt's: none may name weir.
after=$(in_root find / -xdev \( -path /proc -o -path /tmp \) -prune -o -print | sort)
left=$(comm -13 <(echo "$before") <(echo "$after") | sed -n '/weir/p')
[ -z "$left" ] || fail "left after purge: $left"
in_root getent passwd weir >/dev/null || fail "the user weir is gone (Debian keeps it)"
echo "chroot: after purge only the user and group weir remain: $(in_root getent passwd weir)"
t1=$(date +%s)
echo "chroot: ok (chroot ready in $((t_root - t0)) s with the two builds, $((t1 - t0)) s in all)"
