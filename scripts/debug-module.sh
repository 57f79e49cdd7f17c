#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build chan.ko against the debug kernel (scripts/debug-kernel.sh builds or
# reuses it) into $BUILD/debug-module/. Kbuild of 6.1 writes objects next
# to the sources, so the sources are copied there first and the tree's own
# build against Debian's headers is left alone.

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
tree=$("$ROOT/scripts/debug-kernel.sh")
out=$BUILD/debug-module

mkdir -p "$out/kmod" "$out/uapi/linux"
cp "$ROOT/Kbuild" "$out/"
# Only changed files, so that make rebuilds what it must.
cp -u "$ROOT"/kmod/*.c "$ROOT"/kmod/*.h "$out/kmod/"
cp -u "$ROOT"/uapi/linux/*.h "$out/uapi/linux/"
make --no-print-directory -C "$tree" M="$out" W=1 KCFLAGS=-Werror modules >"$out/build.log" 2>&1 || {
	cat "$out/build.log" >&2
	exit 1
}
echo "$tree"
