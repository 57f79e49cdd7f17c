#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Install what building and testing chan needs on Debian 12, then extract the
# few files we use from the kernel source package.  Idempotent and silent
# when everything is there already (`make` runs it before every target), and
# runs without a terminal (CI).
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)

# linux-headers/-image-amd64: build against and boot the same Debian kernel;
# linux-headers/-image-rt-amd64: the same for the PREEMPT_RT flavour; and
# (below) the newest 6.12 kernel of Debian 12, image and headers;
# linux-source-6.1: kselftest harness and checkpatch; qemu-system-x86,
# busybox-static, cpio, gzip: the test VM; kmod: modinfo and depmod for the
# module build; sparse: `make sparse`; bc flex bison libelf-dev libssl-dev
# dwarves rsync: building a debug kernel from the same source (Debian's config
# enables BTF, which needs pahole from dwarves); python3 perl: checkpatch and
# kernel scripts; xz-utils: the source tarball; trinity: scripts/vm-trinity.sh;
# groff-base man-db mandoc: scripts/man-check.sh.
# Packaging (make deb, make package-test, docs/install.md): dpkg-dev,
# debhelper, dh-dkms, fakeroot and lintian build and check the packages;
# dkms builds the packaged source on the host; pkg-config; mmdebstrap makes
# the test system's root filesystem, e2fsprogs (mke2fs -d) its disks and
# qemu-utils (qemu-img) the overlay each run boots.
pkgs="linux-headers-amd64 linux-image-amd64 linux-source-6.1 qemu-system-x86
linux-headers-rt-amd64 linux-image-rt-amd64
busybox-static cpio gzip kmod build-essential gcc make libc6-dev sparse bc
flex bison libelf-dev libssl-dev dwarves rsync python3 perl xz-utils trinity
groff-base man-db mandoc
dpkg-dev debhelper dh-dkms fakeroot lintian dkms pkg-config mmdebstrap
e2fsprogs qemu-utils"

missing=
for p in $pkgs; do
	s=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null) || s=
	case $s in
	ii*) ;;
	*) missing="$missing $p" ;;
	esac
done

if [ -n "$missing" ]; then
	echo "deps: installing$missing"
	sudo=
	if [ "$(id -u)" != 0 ]; then
		command -v sudo >/dev/null ||
			{ echo "deps: need root (or sudo) to install packages" >&2; exit 1; }
		sudo="sudo -n"
	fi
	export DEBIAN_FRONTEND=noninteractive
	# shellcheck disable=SC2086 # word splitting wanted
	$sudo apt-get update -qq
	# shellcheck disable=SC2086
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends $missing >/dev/null
fi

# Debian 12's other kernel series, 6.12: no metapackage points at it, so
# take the newest version the archive has with both its unsigned image and
# its headers, unless one is installed already.
if [ -z "$("$ROOT/scripts/kver.sh" 6.12)" ]; then
	sudo=
	[ "$(id -u)" = 0 ] || sudo="sudo -n"
	export DEBIAN_FRONTEND=noninteractive
	[ -n "$missing" ] || $sudo apt-get update -qq
	v=
	for c in $(apt-cache pkgnames linux-headers-6.12. |
		sed -n 's/^linux-headers-\(6\.12\.[0-9]*+deb12-amd64\)$/\1/p' |
		sort -rV); do
		if apt-cache show "linux-image-$c-unsigned" >/dev/null 2>&1; then
			v=$c
			break
		fi
	done
	[ -n "$v" ] || { echo "deps: no 6.12 kernel of Debian 12 in the archive" >&2; exit 1; }
	echo "deps: installing linux-image-$v-unsigned linux-headers-$v"
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "linux-image-$v-unsigned" \
		"linux-headers-$v" >/dev/null
fi

BUILD=${BUILD:-$ROOT/build} "$ROOT/scripts/linux-source-files.sh"
