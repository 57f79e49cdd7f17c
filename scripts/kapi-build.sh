#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the modules that use chan.ko's in-kernel API (kmod/examples/Kbuild:
# chan_example.ko, and chan_kunit.ko where the kernel has KUnit) against a
# kernel tree and the Module.symvers of the chan.ko built for it, into
# OUTDIR, with W=1 and warnings as errors; then check that the typed
# wrapper rejects a message of the wrong type at build time.
#
# usage: scripts/kapi-build.sh KDIR SYMVERS OUTDIR
# CHAN_SPARSE=1 also runs sparse over them (any warning fails).

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
[ $# = 3 ] || { echo "usage: $0 KDIR SYMVERS OUTDIR" >&2; exit 2; }
kdir=$1
symvers=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
out=$3

[ -f "$symvers" ] || { echo "kapi-build: $symvers missing: build chan.ko first" >&2; exit 1; }
mkdir -p "$out/include/uapi/linux"
out=$(cd "$out" && pwd)
cp -u "$ROOT"/kmod/examples/Kbuild "$ROOT"/kmod/examples/*.c \
	"$ROOT"/kmod/tests/*.c "$out/"
cp -u "$ROOT"/kmod/chan_kernel.h "$ROOT"/kmod/chan_ring.h "$out/include/"
cp -u "$ROOT"/uapi/linux/chan.h "$out/include/uapi/linux/"

kmake() {
	make --no-print-directory -C "$kdir" M="$out" W=1 \
		KBUILD_EXTRA_SYMBOLS="$symvers" \
		KCFLAGS="-Werror -ffile-prefix-map=$out/=" "$@"
}

log=$out/build.log
sparse=
[ "${CHAN_SPARSE:-0}" = 1 ] && sparse=C=2
if ! kmake $sparse modules >"$log" 2>&1 ||
	{ [ -n "$sparse" ] && grep -E ': (warning|error):' "$log"; }; then
	cat "$log" >&2
	exit 1
fi

# The typed wrapper: the right type builds, the wrong one must not.
rm -f "$out/chan_typed_check.o"
if ! kmake CHAN_TYPED_CHECK=y chan_typed_check.o >"$out/typed-ok.log" 2>&1; then
	cat "$out/typed-ok.log" >&2
	echo "kapi-build: the typed wrapper's right use does not build" >&2
	exit 1
fi
rm -f "$out/chan_typed_check.o"
if kmake CHAN_TYPED_CHECK=y KCFLAGS="-Werror -DCHAN_TYPED_WRONG" \
	chan_typed_check.o >"$out/typed-wrong.log" 2>&1; then
	echo "kapi-build: sending the wrong type to a typed channel compiled" >&2
	exit 1
fi
if ! grep -q 'incompatible-pointer-types' "$out/typed-wrong.log"; then
	cat "$out/typed-wrong.log" >&2
	echo "kapi-build: the wrong type failed to build for another reason" >&2
	exit 1
fi
rm -f "$out/chan_typed_check.o"
