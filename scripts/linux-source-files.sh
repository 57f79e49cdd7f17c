#!/bin/sh
# Extract a few files from Debian's linux-source-6.1 tarball into
# $BUILD/linux-source (the kselftest harness headers, checkpatch and
# kernel-doc), once.
# Nothing extracted here is committed.
set -eu
BUILD=${BUILD:-$(cd "$(dirname "$0")/.." && pwd)/build}
out=$BUILD/linux-source
# The stamp names the list: a longer list extracts again.
stamp=$out/.extracted-2
tarball=$(ls /usr/src/linux-source-6.1.tar.* 2>/dev/null | head -n 1)
[ -n "$tarball" ] || { echo "linux-source-6.1 is not installed (run scripts/deps.sh)" >&2; exit 1; }
if [ -f "$stamp" ] && [ "$stamp" -nt "$tarball" ]; then
	exit 0
fi
mkdir -p "$out"
tar -xf "$tarball" -C "$out" --strip-components=1 --wildcards \
	'linux-source-6.1/tools/testing/selftests/kselftest.h' \
	'linux-source-6.1/tools/testing/selftests/kselftest_harness.h' \
	'linux-source-6.1/scripts/checkpatch.pl' \
	'linux-source-6.1/scripts/kernel-doc' \
	'linux-source-6.1/scripts/spelling.txt' \
	'linux-source-6.1/scripts/const_structs.checkpatch'
touch "$stamp"
