#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# checkpatch --strict over the module and its uapi header, with the
# checkpatch.pl of the kernel we build against (Debian's linux-source-6.1),
# then kernel-doc over the same files (every kernel-doc comment complete,
# Return: sections included). Prints only problems; fails on any error,
# warning or check.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
export BUILD
"$ROOT/scripts/linux-source-files.sh"

cd "$ROOT"
files=
for f in kmod/*.c kmod/*.h kmod/examples/*.c kmod/tests/*.c uapi/linux/*.h; do
	[ -f "$f" ] && files="$files $f"
done
if [ -z "$files" ]; then
	echo "style: no kernel sources found" >&2
	exit 1
fi

# No --ignore: nothing checkpatch reports is exempt for out-of-tree code yet.
# --no-tree: we are not inside a kernel tree (spelling.txt and
# const_structs.checkpatch are found next to checkpatch.pl).
# shellcheck disable=SC2086 # $files is a list of plain paths
"$BUILD/linux-source/scripts/checkpatch.pl" --strict --no-tree --show-types \
	--quiet --no-summary -f $files

# kernel-doc -v reports what -none alone does not (a missing Return:).
# shellcheck disable=SC2086 # $files is a list of plain paths
kdoc=$(perl "$BUILD/linux-source/scripts/kernel-doc" -v -none $files 2>&1 |
	grep -i 'warning' || true)
if [ -n "$kdoc" ]; then
	echo "$kdoc"
	exit 1
fi
