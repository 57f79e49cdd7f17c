#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Where chan's instructions go: `perf record` inside the icount VM, so that
# a cpu-clock sample every 9973 guest ns is a sample every 9973 guest
# instructions. Profiles chan's channel-fd ioctl path beside POSIX mq
# (send+receive in one process) and beside eventfd (two-process ping-pong),
# and the fast path's rows (issue 9: the mapped ring's send+receive,
# streams 1->1 and 4->4, ping-pong with chan_ep_call, the batch of 32 on
# the ioctl path), 64-byte messages, and prints `perf report` by symbol
# for each.
#
# The initramfs has no libc: Debian's perf and the shared libraries it
# needs are copied into a private $BUILD/bench/profroot/bin/perf/ and run
# through the dynamic loader. Nothing of it goes into other VM runs.
#
# usage: scripts/bench-profile.sh   (the module and bench/ built already)
# Output: the reports on stdout. Exit status: 0, or 1 on failure.

set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
NICE=${BENCH_NICE:-10}
PROFROOT=$BUILD/bench/profroot
P=$PROFROOT/bin/perf

die() {
	echo "bench-profile: $*" >&2
	exit 1
}

perf_bin=$(command -v perf) || die "perf not found: apt-get install linux-perf"
[ -x "$BUILD/bench/vmroot/bin/ipc_bench" ] || die "build bench/ first (make -C bench)"

rm -rf "$PROFROOT"
mkdir -p "$P/lib" || die "cannot create $P"
cp "$BUILD/bench/vmroot/bin/ipc_bench" "$PROFROOT/bin/" || die "cannot copy ipc_bench"
# /usr/bin/perf may be Debian's version-dispatching wrapper script.
real=$perf_bin
if ! LC_ALL=C readelf -h "$real" >/dev/null 2>&1; then
	real=$(find /usr/bin -maxdepth 1 -name 'perf_*' | sort -V | tail -n 1)
	[ -n "$real" ] || die "cannot find the perf binary behind $perf_bin"
fi
cp "$real" "$P/perf" || die "cannot copy $real"
ldd "$real" | awk '$3 ~ /^\// { print $3 }' | while read -r lib; do
	cp -L "$lib" "$P/lib/" || exit 1
done || die "cannot copy perf's libraries"
interp=$(LC_ALL=C readelf -l "$real" | sed -n 's/.*program interpreter: \(.*\)]/\1/p')
cp -L "$interp" "$P/ld.so" || die "cannot copy $interp"
# Not executable: vm-run.sh would warn that they are dynamically linked.
chmod a-x "$P/perf" "$P"/lib/*

# shellcheck disable=SC2016 # expanded in the guest
cmd='P=/opt/chan/bin/perf
perf() { "$P/ld.so" --library-path "$P/lib" "$P/perf" "$@"; }
prof() {
	title=$1
	shift
	echo "=== $title: ipc_bench $*"
	perf record -q -e cpu-clock -c 9973 -o /tmp/perf.data -- \
		/opt/chan/bin/ipc_bench -j "$@" >/dev/null || exit 1
	perf report -i /tmp/perf.data --stdio -n --comm ipc_bench --sort sym \
		--percent-limit 0 2>/dev/null | grep -v "^#" | grep -v "^$" >/tmp/rep
	# Leave out the jitter between operations, and scale the rest to 100%.
	awk "\$NF != \"bench_jitter\" { n[NR] = \$2; l[NR] = \$3 \" \" \$4; t += \$2 }
	     END { printf \"%8s %7s  %s\\n\", \"samples\", \"share\", \"symbol\";
		   for (i = 1; i <= NR; i++) if (i in n && n[i] * 100 >= 0.7 * t)
			printf \"%8d %6.1f%%  %s\\n\", n[i], n[i] * 100 / t, l[i];
		   printf \"%8d %6.1f%%  (all, without bench_jitter)\\n\", t, 100 }" /tmp/rep
	echo
}
cd /tmp
prof "chan-fd send+receive" -m chan-fd -w self -s 64 -n 5000
prof "chan-rw send+receive" -m chan-rw -w self -s 64 -n 5000
prof "posix-mq send+receive" -m posix-mq -w self -s 64 -n 5000
prof "chan-fd ping-pong" -m chan-fd -w pingpong -s 64 -p 1000
prof "eventfd ping-pong" -m eventfd -w pingpong -s 64 -p 1000
prof "chan-mmap send+receive" -m chan-mmap -w self -s 64 -n 20000
prof "chan-mmap stream 1->1" -m chan-mmap -w stream1x1 -s 64 -t 16384
prof "chan-mmap stream 4->4" -m chan-mmap -w stream4x4 -s 64 -t 16384
prof "chan-mmap-call ping-pong" -m chan-mmap-call -w pingpong -s 64 -p 1000
prof "chan-mmap ping-pong (no call)" -m chan-mmap -w pingpong -s 64 -p 1000
prof "chan-batch32 send+receive" -m chan-batch32 -w self -s 64 -n 20000'

echo "# perf inside the icount VM (-icount shift=0,sleep=off, 1 vCPU): one"
echo "# cpu-clock sample per 9973 guest instructions, user and kernel, of the"
echo "# ipc_bench processes, by symbol; ipc_bench -j puts a pseudo-random"
echo "# pause between operations so the fixed period cannot alias with the"
echo "# loop, and the pause (bench_jitter) is left out of the shares."
echo "# Symbols under 0.7% are not listed."
# The icount pass's settings (scripts/bench.sh), so that the profile's
# boot executes the same instructions every time too.
BUILD=$PROFROOT VM_ICOUNT=1 VM_DETERMINISTIC=1 VM_CPU="max,-rdrand,-rdseed" \
	VM_APPEND="nokaslr norandmaps tsc=unstable" nice -n "$NICE" \
	"$ROOT/scripts/vm-run.sh" --timeout 900 -- "$cmd" ||
	die "the profile run failed (vm-run.sh status $?)"
