#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make package-test`: install the Debian packages of `make deb` the way a
# user would, in a real Debian 12 system booted under QEMU (TCG, never KVM)
# with systemd as init and no network, then remove them.
#
# The system is a root filesystem made with mmdebstrap and cached outside
# the repository (scripts/pkgtest-rootfs.sh: both kernels with headers,
# dkms, the compiler, pkg-config, man-db, trace-cmd, a user "tester").  Each
# run boots a qcow2 overlay of it, with a second disk (ext4, label pkgtest,
# made with mke2fs -d) holding the packages, scripts/package-test/guest.sh
# and hello.c; the image's chan-pkgtest.service runs guest.sh and powers
# off.  Two boots of the same disk:
#   1. Debian's 6.1 kernel: apt install, DKMS builds for both kernels,
#      modprobe, hello.c compiled and run as "tester" with pkg-config, a
#      chanctl session, man pages, tracepoints (when the source has them);
#   2. the reboot, into Debian 12's 6.12 kernel: modules-load.d loaded the
#      module at boot, the program and chanctl work there, then
#      apt remove --purge leaves nothing behind.
# (guest.sh has the list.)  Logs of boot N in $BUILD/pkgtest/:
# console-N.log (the serial console), output-N.log (the output of the
# guest's commands), tap-N.log (the guest's results).
#
# Prints TAP ("ok N - ...", "1..N") and exits non-zero on any failure.
# Environment: PKGTEST_TIMEOUT1/2 (seconds, default 2400/1200): hard limit
# of each boot; PKGTEST_SMP, PKGTEST_MEM (default 2, 2048).
# usage: scripts/package-test.sh   (after make deb)

set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
deb=$BUILD/deb
work=$BUILD/pkgtest
version=$(cat "$ROOT/VERSION")
n=0
failed=0
tap() { # tap ok|fail DESCRIPTION
	n=$((n + 1))
	if [ "$1" = ok ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=1; fi
}
finish() {
	echo "1..$n"
	echo "# package-test: $(( $(date +%s) - t_start )) s in all; logs in $work/"
	exit "$failed"
}
t_start=$(date +%s)

for p in chan-dkms_"${version}"_all libchan1_"${version}"_amd64 \
	libchan-dev_"${version}"_amd64 chan-tools_"${version}"_amd64; do
	[ -f "$deb/$p.deb" ] || { echo "package-test: $deb/$p.deb missing (make deb)" >&2; exit 1; }
done
for t in qemu-system-x86_64 qemu-img mke2fs; do
	command -v "$t" >/dev/null || { echo "package-test: $t missing (scripts/deps.sh)" >&2; exit 1; }
done

t0=$(date +%s)
if cache=$("$ROOT/scripts/pkgtest-rootfs.sh"); then
	tap ok "Debian 12 root filesystem ready ($(( $(date +%s) - t0 )) s: $cache)"
else
	tap fail "Debian 12 root filesystem (scripts/pkgtest-rootfs.sh)"
	finish
fi
read -r v61 v612 <"$cache/kernels"

rm -rf "$work"
mkdir -p "$work/data"
cp "$deb/chan-dkms_${version}_all.deb" "$deb/libchan1_${version}_amd64.deb" \
	"$deb/libchan-dev_${version}_amd64.deb" \
	"$deb/chan-tools_${version}_amd64.deb" \
	"$ROOT/scripts/package-test/guest.sh" "$ROOT/scripts/package-test/hello.c" \
	"$work/data/"
printf 'VERSION=%s\nV61=%s\nV612=%s\n' "$version" "$v61" "$v612" >"$work/data/env"
mke2fs -q -t ext4 -L pkgtest -d "$work/data" "$work/data.ext4" 64M >/dev/null ||
	{ tap fail "the packages' disk (mke2fs)"; finish; }
qemu-img create -q -f qcow2 -F raw -b "$cache/rootfs.ext4" "$work/root.qcow2" ||
	{ tap fail "the root disk's overlay (qemu-img)"; finish; }

# boot STAGE KERNEL_VERSION TIMEOUT: one boot; the guest's results are
# numbered here.
boot() {
	local stage=$1 v=$2 limit=$3 rc t0 line try
	t0=$(date +%s)
	echo "# boot $stage: $v (console: $work/console-$stage.log)"
	for try in 1 2; do
		timeout --kill-after=10 "$limit" \
			qemu-system-x86_64 -accel tcg -cpu max -smp "${PKGTEST_SMP:-2}" \
			-m "${PKGTEST_MEM:-2048}" -nographic -no-reboot -nodefaults \
			-no-user-config -kernel "$cache/vmlinuz-$v" \
			-initrd "$cache/initrd.img-$v" \
			-append "root=/dev/vda rw console=ttyS0,115200 panic=-1 loglevel=4 chan_pkgtest=$stage" \
			-drive "file=$work/root.qcow2,if=virtio,format=qcow2" \
			-drive "file=$work/data.ext4,if=virtio,format=raw" \
			-serial "file:$work/console-$stage.log" \
			-serial "file:$work/tap-$stage.log" \
			-serial "file:$work/output-$stage.log" </dev/null >"$work/qemu-$stage.log" 2>&1
		rc=$?
		# A kernel that panicked before any user space ran (nothing on the
		# TAP port, no systemd banner) never reached the disks or the
		# module: an emulator flake (TCG once hit an int3 of live code
		# patching in 6.12's early initcalls). Boot it once more, and say so.
		if [ "$try" = 1 ] && [ ! -s "$work/tap-$stage.log" ] &&
			grep -q "Kernel panic" "$work/console-$stage.log" &&
			! grep -q "Welcome to" "$work/console-$stage.log"; then
			cp "$work/console-$stage.log" "$work/console-$stage-panic.log"
			echo "# boot $stage: the kernel panicked before user space" \
				"(console-$stage-panic.log); booting again"
			continue
		fi
		break
	done
	while IFS= read -r line; do
		line=${line%$'\r'}
		case $line in
		"ok - "*) tap ok "${line#ok - }" ;;
		"not ok - "*) tap fail "${line#not ok - }" ;;
		"#"*) echo "$line" ;;
		esac
	done <"$work/tap-$stage.log"
	if grep -q "^# stage $stage complete" "$work/tap-$stage.log"; then
		tap ok "boot $stage ($v): guest finished and powered off ($(( $(date +%s) - t0 )) s)"
	elif [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		tap fail "boot $stage ($v): timed out after $limit s (console: $work/console-$stage.log)"
	else
		tap fail "boot $stage ($v): guest did not finish, QEMU status $rc (console: $work/console-$stage.log)"
	fi
}

boot 1 "$v61" "${PKGTEST_TIMEOUT1:-2400}"
boot 2 "$v612" "${PKGTEST_TIMEOUT2:-1200}"
rm -f "$work/root.qcow2"
finish
