#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build, or reuse, the debug kernel (KASAN, KMEMLEAK, lockdep, ...) from
# Debian's linux-source-6.1 with the fragment scripts/debug-kernel.config on
# top of allnoconfig. The tree is cached outside the repository, keyed by
# the hash of the fragment, this script and the source tarball's version,
# in ${CHAN_CACHE:-/var/cache/chan}. Prints the tree's path on stdout.
#
# usage: scripts/debug-kernel.sh [--quiet]

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
frag=$ROOT/scripts/debug-kernel.config
tarball=$(ls /usr/src/linux-source-6.1.tar.* 2>/dev/null | head -n 1)
[ -n "$tarball" ] || { echo "debug-kernel: linux-source-6.1 is not installed" >&2; exit 1; }
srcver=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null || echo unknown)
key=$( (cat "$frag" "$0"; echo "$srcver") | sha256sum | cut -c1-16)
cache=${CHAN_CACHE:-/var/cache/chan}
dir=$cache/debug-kernel-$key
tree=$dir/linux

mkdir -p "$cache"
# One build at a time: a second caller waits for the first, then reuses it.
exec 9>"$cache/debug-kernel.lock"
flock 9

if [ -f "$dir/.done" ]; then
	echo "$tree"
	exit 0
fi

log=$dir/build.log
rm -rf "$dir"
mkdir -p "$tree"
echo "debug-kernel: building in $dir (about 10-20 minutes on 2 cores; log: $log)" >&2
start=$(date +%s)
tar -xf "$tarball" -C "$tree" --strip-components=1
{
	make -C "$tree" allnoconfig
	"$tree/scripts/kconfig/merge_config.sh" -m -O "$tree" "$tree/.config" "$frag"
	make -C "$tree" olddefconfig
} >"$log" 2>&1

# merge_config only warns when an option did not stick: insist on the ones
# the tests rely on.
for opt in KASAN KASAN_GENERIC KASAN_INLINE DEBUG_KMEMLEAK PROVE_LOCKING \
	PROVE_RCU DEBUG_ATOMIC_SLEEP DEBUG_LIST DEBUG_OBJECTS KFENCE \
	SOFTLOCKUP_DETECTOR DETECT_HUNG_TASK MODULES MODULE_UNLOAD \
	SERIAL_8250_CONSOLE BLK_DEV_INITRD DEVTMPFS SYSVIPC POSIX_MQUEUE \
	IPC_NS UNIX EPOLL EVENTFD; do
	if ! grep -q "^CONFIG_$opt=y" "$tree/.config"; then
		echo "debug-kernel: CONFIG_$opt did not stick (see $tree/.config)" >&2
		exit 1
	fi
done

if ! make -C "$tree" -j"$(nproc)" bzImage modules >>"$log" 2>&1; then
	tail -n 30 "$log" >&2
	echo "debug-kernel: build failed (log: $log)" >&2
	exit 1
fi
touch "$dir/.done"
echo "debug-kernel: built in $(( $(date +%s) - start )) s" >&2
echo "$tree"
