#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make deb`: build the Debian packages (chan-dkms, libchan1, libchan-dev,
# chan-tools) with dpkg-buildpackage -us -uc -b in a copy of the tree under
# $BUILD/deb/src/ (so that nothing is left in the source tree or beside it),
# collect them in $BUILD/deb/, and check them with lintian.  The copy holds
# the files git knows (tracked or untracked but not ignored), so that
# uncommitted work is packaged and build products are not.
#
# --dkms also builds chan-dkms's /usr/src tree with DKMS on this host (into
# a scratch DKMS tree, never installed or loaded) against the headers of
# Debian's 6.1 kernel and of Debian 12's 6.12 kernel (scripts/kver.sh), as
# DKMS does on a user's machine, header probe (kmod/compat.h) included.
#
# Prints TAP lines ("ok N - ...") and ends non-zero if anything failed.
# usage: scripts/deb.sh [--dkms]

set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
dkms_check=0
case ${1:-} in
--dkms) dkms_check=1 ;;
"") ;;
*) echo "usage: $0 [--dkms]" >&2; exit 2 ;;
esac
out=$BUILD/deb
n=0
failed=0
tap() { # tap ok|fail DESCRIPTION
	n=$((n + 1))
	if [ "$1" = ok ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=1; fi
}

# What building the packages needs, and only that (not scripts/deps.sh's
# kernels and QEMU): installed if missing, as root.
need="build-essential dpkg-dev debhelper dh-dkms fakeroot lintian"
missing=
for p in $need; do
	dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii' ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "deb: missing:$missing (apt install them, or run as root)" >&2
		exit 1
	fi
	echo "deb: installing$missing"
	apt-get update -qq || { echo "deb: apt-get update failed" >&2; exit 1; }
	# shellcheck disable=SC2086 # a list
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends $missing >/dev/null ||
		{ echo "deb: could not install$missing" >&2; exit 1; }
fi

version=$(cat "$ROOT/VERSION")
clver=$(cd "$ROOT" && dpkg-parsechangelog -S Version)
if [ "$clver" = "$version" ]; then
	tap ok "debian/changelog's version is VERSION's ($version)"
else
	tap fail "debian/changelog's version $clver is not VERSION's $version"
fi

rm -rf "$out"
src=$out/src/chan-$version
mkdir -p "$src"
if git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$ROOT" && git ls-files -z -c -o --exclude-standard) |
		(cd "$ROOT" && while IFS= read -r -d '' f; do
			[ -e "$f" ] && printf '%s\0' "$f"
		done) |
		(cd "$ROOT" && tar --null -T - -cf -) | tar -xf - -C "$src"
else
	(cd "$ROOT" && tar --exclude=./build -cf - .) | tar -xf - -C "$src"
fi

log=$out/build.log
start=$(date +%s)
if (cd "$src" && dpkg-buildpackage -us -uc -b) >"$log" 2>&1; then
	tap ok "dpkg-buildpackage -us -uc -b ($(( $(date +%s) - start )) s, log: $log)"
else
	tail -n 40 "$log"
	tap fail "dpkg-buildpackage -us -uc -b (log: $log)"
	echo "1..$n"
	exit 1
fi
# dpkg-buildpackage writes its results beside the tree it built.
mv "$out"/src/*.deb "$out"/src/*.buildinfo "$out"/src/*.changes "$out/"
rm -rf "$out/src"

for p in chan-dkms libchan1 libchan-dev chan-tools; do
	if ls "$out/${p}_${version}_"*.deb >/dev/null 2>&1; then
		tap ok "$p built"
	else
		tap fail "$p built"
	fi
done

# Lintian: no error and no warning; informational tags are shown, not
# counted.  Tags suppressed, and why:
#   bogus-mail-host, bogus-mail-host-in-debian-changelog: the maintainer is
#     the project's own identity, chan@localhost (the address of every
#     commit); the project has no mail domain.  Whoever distributes the
#     packages puts their own address in debian/control and debian/changelog.
#   no-manual-page (only while man/chanctl.8 is missing): chanctl's page is
#     written in man/ and shipped by chan-tools once it is there.
suppress=bogus-mail-host,bogus-mail-host-in-debian-changelog
if [ ! -f "$ROOT/man/chanctl.8" ]; then
	echo "# man/chanctl.8 missing: lintian's no-manual-page suppressed"
	suppress=$suppress,no-manual-page
fi
changes=$(ls "$out"/chan_"${version}"_*.changes)
if lintian --fail-on error,warning --suppress-tags "$suppress" --info \
	--display-info "$changes" >"$out/lintian.log" 2>&1; then
	tap ok "lintian: no error, no warning ($(grep -c '^[IP]:' "$out/lintian.log") info tags, log: $out/lintian.log)"
else
	cat "$out/lintian.log"
	tap fail "lintian (log: $out/lintian.log)"
fi
sed 's/^/# /' "$out/lintian.log"

if [ "$dkms_check" = 1 ]; then
	scratch=$out/dkms-check
	rm -rf "$scratch"
	mkdir -p "$scratch/dkms"
	dpkg-deb -x "$out/chan-dkms_${version}_all.deb" "$scratch/root"
	for k in "$("$ROOT/scripts/kver.sh")" "$("$ROOT/scripts/kver.sh" 6.12)"; do
		if [ -z "$k" ] || [ ! -d "/lib/modules/$k/build" ]; then
			tap fail "dkms build of the packaged source: kernel headers missing (${k:-6.12}; scripts/deps.sh)"
			continue
		fi
		t0=$(date +%s)
		if dkms build -m chan -v "$version" -k "$k" \
			--sourcetree "$scratch/root/usr/src" \
			--dkmstree "$scratch/dkms" >"$scratch/$k.log" 2>&1 &&
			ko=$(ls "$scratch/dkms/chan/$version/$k"/*/module/chan.ko*) &&
			[ "$(modinfo -F vermagic "$ko" | cut -d' ' -f1)" = "$k" ] &&
			[ "$(modinfo -F version "$ko")" = "$version" ]; then
			tap ok "dkms build of chan-dkms's source for $k ($(( $(date +%s) - t0 )) s)"
		else
			tail -n 20 "$scratch/$k.log"
			tap fail "dkms build of chan-dkms's source for $k (log: $scratch/$k.log)"
		fi
	done
fi
echo "1..$n"
ls "$out"/*.deb
exit "$failed"
