#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# `make check-quick`: the checks that need no VM, in about a minute. The
# module built for Debian's 6.1 and 6.12 kernels with W=1 and warnings as
# errors, sparse over it (any warning fails), checkpatch --strict
# (scripts/style.sh), the host-side tests of the ring protocol, and the man
# pages (scripts/man-check.sh: no warning, every symbol a page). .ci/run
# runs it before the full `make check`, so that such a regression fails
# fast. Prints one line per step; exits non-zero at the first failure.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
export BUILD
cd "$ROOT" || exit 1
log=$BUILD/check-quick.log
mkdir -p "$BUILD"
: >"$log"

step() {
	name=$1
	shift
	if "$@" >>"$log" 2>&1; then
		echo "check-quick: $name: ok"
	else
		echo "check-quick: $name: FAILED (log: $log)"
		tail -n 30 "$log"
		exit 1
	fi
}

kdir=/lib/modules/$(scripts/kver.sh)/build
k612=$(scripts/kver.sh 6.12)

step "module (6.1, W=1 -Werror)" make --no-print-directory module
if [ -n "$k612" ]; then
	step "module (6.12, W=1 -Werror)" \
		scripts/module-build.sh "/lib/modules/$k612/build" \
		"$BUILD/6.12-module"
else
	echo "check-quick: module (6.12): FAILED (no 6.12 kernel: make deps)"
	exit 1
fi
# sparse reports on stderr and exits 0: any warning or error fails here.
sparse_out=$BUILD/sparse.log
if make --no-print-directory -C "$kdir" M="$ROOT" C=2 modules \
	>"$sparse_out" 2>&1 && ! grep -E ': (warning|error):' "$sparse_out"; then
	echo "check-quick: sparse: ok"
else
	echo "check-quick: sparse: FAILED (log: $sparse_out)"
	exit 1
fi
step "sparse (in-kernel API modules)" env CHAN_SPARSE=1 \
	scripts/kapi-build.sh "$kdir" "$ROOT/Module.symvers" "$BUILD/kapi"
step "checkpatch --strict" scripts/style.sh
step "host tests" make --no-print-directory -C selftests host-tests
step "man pages" scripts/man-check.sh
