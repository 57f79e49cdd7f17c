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
# linux-headers/-image-rt-amd64: the same for the PREEMPT_RT flavour;
# linux-source-6.1: kselftest harness and checkpatch; qemu-system-x86,
# busybox-static, cpio, gzip: the test VM; kmod: modinfo and depmod for the
# module build; sparse: `make sparse`; bc flex bison libelf-dev libssl-dev
# dwarves rsync: building a debug kernel from the same source (Debian's config
# enables BTF, which needs pahole from dwarves); python3 perl: checkpatch and
# kernel scripts; xz-utils: the source tarball; trinity: scripts/vm-trinity.sh.
pkgs="linux-headers-amd64 linux-image-amd64 linux-source-6.1 qemu-system-x86
linux-headers-rt-amd64 linux-image-rt-amd64
busybox-static cpio gzip kmod build-essential gcc make libc6-dev sparse bc
flex bison libelf-dev libssl-dev dwarves rsync python3 perl xz-utils trinity"

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

BUILD=${BUILD:-$ROOT/build} "$ROOT/scripts/linux-source-files.sh"
