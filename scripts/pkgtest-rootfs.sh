#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build, or reuse, the Debian 12 system that scripts/package-test.sh boots:
# a root filesystem made with mmdebstrap from the archive this host uses
# (the bookworm* entries of /etc/apt/sources.list*), holding Debian's 6.1
# kernel (linux-image-amd64) and Debian 12's 6.12 kernel (the version
# scripts/kver.sh 6.12 picks), both with their headers, dkms, the compiler,
# pkg-config, systemd, man-db, trace-cmd and everything the packages of
# debian/control depend on, so that the guest needs no network.  It is turned
# into an ext4 image with mke2fs -d (no loop mount) and cached outside the
# repository in ${CHAN_CACHE:-/var/cache/chan}/pkgtest-KEY/, keyed by the
# package list, the archive entries and this script:
#
#   rootfs.ext4                   the pristine image (never written: each run
#                                 boots a qcow2 overlay on top of it)
#   vmlinuz-V, initrd.img-V       the kernels and initramfs from its /boot
#   kernels                       "V61 V612"
#
# The image has a user "tester" and a unit, chan-pkgtest.service, that at
# boot mounts the disk labelled "pkgtest" (the test's second disk), runs its
# guest.sh and powers off; without such a disk it does nothing.
#
# Prints the cache directory on stdout.  usage: scripts/pkgtest-rootfs.sh

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
die() { echo "pkgtest-rootfs: $*" >&2; exit 1; }

v612=$("$ROOT/scripts/kver.sh" 6.12)
[ -n "$v612" ] || die "no 6.12 kernel installed (run scripts/deps.sh)"

# The archive entries of this host: every sources file naming bookworm.
sources=()
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
	/etc/apt/sources.list.d/*.sources; do
	[ -f "$f" ] && grep -qE '^[^#]*bookworm' "$f" && sources+=("$f")
done
[ ${#sources[@]} -gt 0 ] || die "no bookworm entry in /etc/apt/sources.list*"

# systemd-sysv: systemd as init; udev: /dev/chan's node and module
# autoloading; initramfs-tools: the kernels' initrd; util-linux: runuser for
# the unprivileged steps; dkms, build-essential: what chan-dkms needs to
# build; man-db: `man chanctl`; trace-cmd: the tracepoints.
pkgs="systemd-sysv udev kmod initramfs-tools util-linux sudo
linux-image-amd64 linux-headers-amd64
linux-image-$v612-unsigned linux-headers-$v612
dkms build-essential pkg-config man-db trace-cmd"
# shellcheck disable=SC2086 # split into words on purpose
pkgs=$(printf '%s\n' $pkgs | sort | tr '\n' ' ')

key=$( (echo "$pkgs"; cat "${sources[@]}" "$0") | sha256sum | cut -c1-16)
cache=${CHAN_CACHE:-/var/cache/chan}
dir=$cache/pkgtest-$key
mkdir -p "$cache"
exec 9>"$cache/pkgtest.lock"
flock 9

if [ -f "$dir/.done" ]; then
	echo "$dir"
	exit 0
fi

command -v mmdebstrap >/dev/null || die "mmdebstrap missing (scripts/deps.sh)"
command -v mke2fs >/dev/null || die "mke2fs missing (e2fsprogs)"
rm -rf "$dir"
mkdir -p "$dir"
log=$dir/build.log
echo "pkgtest-rootfs: building in $dir (log: $log)" >&2
start=$(date +%s)
tree=$dir/tree

unit='[Unit]
Description=chan package test (runs guest.sh from the disk labelled pkgtest)
ConditionPathExists=/dev/disk/by-label/pkgtest
After=local-fs.target systemd-modules-load.service systemd-udev-settle.service
Wants=systemd-udev-settle.service

[Service]
Type=oneshot
TimeoutStartSec=3600
ExecStart=/bin/sh -c "mkdir -p /mnt/pkgtest && mount /dev/disk/by-label/pkgtest /mnt/pkgtest && sh /mnt/pkgtest/guest.sh"
ExecStopPost=/bin/sh -c "sync; umount /mnt/pkgtest; systemctl --no-block poweroff"

[Install]
WantedBy=multi-user.target
'

# The hooks' "$1" (the tree) is mmdebstrap's, hence the single quotes.
# shellcheck disable=SC2086,SC2016
if ! mmdebstrap --variant=minbase --include="$(echo $pkgs | tr ' ' ,)" \
	--customize-hook='chroot "$1" useradd -m -s /bin/sh tester' \
	--customize-hook='echo chan-pkgtest >"$1/etc/hostname"' \
	--customize-hook='chroot "$1" passwd -d root' \
	--customize-hook="printf '%s' '$unit' >\"\$1/etc/systemd/system/chan-pkgtest.service\"" \
	--customize-hook='chroot "$1" systemctl enable chan-pkgtest.service' \
	--customize-hook='printf "/dev/vda / ext4 defaults 0 1\n" >"$1/etc/fstab"' \
	bookworm "$tree" "${sources[@]}" >"$log" 2>&1; then
	tail -n 30 "$log" >&2
	die "mmdebstrap failed (log: $log)"
fi

v61=$(ls "$tree"/boot/vmlinuz-6.1.* | sed 's|.*/vmlinuz-||' | sort -V | tail -n 1)
[ -f "$tree/boot/vmlinuz-$v612" ] || die "6.12 kernel missing from the image"
for v in "$v61" "$v612"; do
	cp "$tree/boot/vmlinuz-$v" "$tree/boot/initrd.img-$v" "$dir/" ||
		die "kernel or initrd of $v missing from the image"
done
echo "$v61 $v612" >"$dir/kernels"

# Room for the packages, two DKMS builds and the logs.
mb=$(( $(du -sm "$tree" | cut -f1) + 3072 ))
mke2fs -q -t ext4 -L root -d "$tree" "$dir/rootfs.ext4" "${mb}M" >>"$log" 2>&1 ||
	die "mke2fs failed (log: $log)"
rm -rf "$tree"
touch "$dir/.done"
echo "pkgtest-rootfs: built in $(( $(date +%s) - start )) s" >&2
echo "$dir"
