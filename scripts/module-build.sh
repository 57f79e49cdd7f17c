#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build chan.ko against another kernel tree into a directory of its own:
# scripts/module-build.sh KDIR OUTDIR, and the modules that use its
# in-kernel API into OUTDIR/kapi (scripts/kapi-build.sh). Kbuild of 6.1 writes objects next to
# the sources, so the sources are copied to OUTDIR first and the tree's own
# build against Debian's headers is left alone.

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
[ $# = 2 ] || { echo "usage: $0 KDIR OUTDIR" >&2; exit 2; }
kdir=$1
out=$2

mkdir -p "$out/kmod" "$out/uapi/linux"
out=$(cd "$out" && pwd)
cp "$ROOT/Kbuild" "$out/"
# Only changed files, so that make rebuilds what it must.
cp -u "$ROOT"/kmod/*.c "$ROOT"/kmod/*.h "$out/kmod/"
cp -u "$ROOT"/uapi/linux/*.h "$out/uapi/linux/"
make --no-print-directory -C "$kdir" M="$out" W=1 \
	KCFLAGS="-Werror -ffile-prefix-map=$out/=" modules >"$out/build.log" 2>&1 || {
	cat "$out/build.log" >&2
	exit 1
}
"$ROOT/scripts/kapi-build.sh" "$kdir" "$out/Module.symvers" "$out/kapi"
