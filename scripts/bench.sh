#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make bench`: chan beside the kernel's IPC (inside QEMU) and its ring
# beside the best user-space rings (native). Installs what it needs, builds,
# runs, writes bench/results/ (results.md, results.csv, *.png, profile.txt,
# registry.md, registry.csv) and prints the tables.  See bench/README.md.
#
# usage: scripts/bench.sh [--repeat-check] [--quick] [--no-build]
#                         [--no-native] [--no-icount] [--no-wall]
#                         [--no-profile] [--no-registry] [--registry-only]
#                         [--module CHAN.KO] [--registry-before RAWFILE]
#                         [--results DIR]
#
#   --repeat-check  run the icount pass (and the registry pass) twice and
#                   say whether the figures repeated ("icount rows repeat:
#                   yes/no", with what differed); exit status 3 if not
#   --quick         tiny iteration counts, to try the harness (the figures
#                   are then not worth committing)
#   --no-build      use what is built already
#   --no-*          skip a pass; the report is made from what is in the raw
#                   directory ($BUILD/bench/raw), so a skipped pass keeps
#                   its last figures
#   --registry-only only the registry pass (issue 12): registry.md and
#                   registry.csv; results.md is left alone
#   --module F      test this chan.ko (built elsewhere, e.g. by
#                   scripts/module-build.sh) instead of building the tree's
#   --registry-before F  the raw output of an earlier registry pass (e.g.
#                   the module before a change), shown beside the new one
#
# Environment: BENCH_NICE (default 10) is the niceness of every heavy job;
# BENCH_NATIVE_RUNS (default 5) runs per native cell.
#
# Exit status: 0 success, 1 a pass failed, 2 usage, 3 the icount or the
# registry figures did not repeat (with --repeat-check; everything is
# written all the same).

set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
export BUILD
NICE=${BENCH_NICE:-10}
RESULTS=$ROOT/bench/results
RAW=$BUILD/bench/raw
VMROOT=$BUILD/bench/vmroot

REGROOT=$BUILD/bench/regroot
MODULE=$ROOT/chan.ko

repeat=0 quick=0 build=1 native=1 icount=1 wall=1 profile=1 registry=1
module_given=0 reg_before=
while [ $# -gt 0 ]; do
	case $1 in
	--repeat-check) repeat=1 ;;
	--quick) quick=1 ;;
	--no-build) build=0 ;;
	--no-native) native=0 ;;
	--no-icount) icount=0 ;;
	--no-wall) wall=0 ;;
	--no-profile) profile=0 ;;
	--no-registry) registry=0 ;;
	--registry-only) native=0 icount=0 wall=0 profile=0 registry=1 ;;
	--module) [ $# -ge 2 ] || exit 2; MODULE=$(realpath "$2") || exit 2
		module_given=1; shift ;;
	--registry-before) [ $# -ge 2 ] || exit 2
		reg_before=$(realpath "$2") || exit 2; shift ;;
	--results) [ $# -ge 2 ] || exit 2; RESULTS=$2; shift ;;
	-h|--help) sed -n 's/^# \{0,1\}//; 8,36p' "$0"; exit 0 ;;
	*) echo "bench: unknown argument: $1" >&2; exit 2 ;;
	esac
	shift
done
others=$((native + icount + wall + profile))
if [ -n "$reg_before" ] && [ ! -f "$reg_before" ]; then
	echo "bench: no such file: $reg_before" >&2
	exit 2
fi

say() { printf 'bench: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
start=$(date +%s)
elapsed() { echo $(( $(date +%s) - start ))s; }

# --- install -----------------------------------------------------------------

"$ROOT/scripts/deps.sh" || die "scripts/deps.sh failed"
# The peers of the native ring benchmark, the plotter, and perf for the
# profile pass.
pkgs="libck-dev libdpdk-dev libboost-dev libconcurrentqueue-dev liburcu-dev
gnuplot-nox pkg-config g++ python3 linux-perf"
# The registry pass alone needs none of them but python3.
[ "$others" = 0 ] && pkgs=python3
missing=
for p in $pkgs; do
	case $(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null) in
	ii*) ;;
	*) missing="$missing $p" ;;
	esac
done
if [ -n "$missing" ]; then
	say "installing$missing"
	sudo=
	if [ "$(id -u)" != 0 ]; then
		command -v sudo >/dev/null || die "need root (or sudo) to install$missing"
		sudo="sudo -n"
	fi
	$sudo apt-get update -qq || die "apt-get update failed"
	# shellcheck disable=SC2086 # word splitting wanted
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends $missing >/dev/null ||
		die "apt-get install$missing failed"
fi

# --- build -------------------------------------------------------------------

if [ "$build" = 1 ]; then
	if [ "$module_given" = 1 ]; then
		nice -n "$NICE" make -C "$ROOT" userlib >/dev/null ||
			die "make userlib failed"
	else
		nice -n "$NICE" make -C "$ROOT" module userlib >/dev/null ||
			die "make module userlib failed"
	fi
	target=all
	[ "$native" = 0 ] && target=vm
	nice -n "$NICE" make -C "$ROOT/bench" $target >/dev/null ||
		die "make -C bench $target failed"
fi
[ -f "$MODULE" ] || die "$MODULE not found: build the module (make module) or pass --module"
mkdir -p "$RAW" "$RESULTS" || die "cannot create $RAW or $RESULTS"

# --- the VM passes -----------------------------------------------------------

# Iteration counts: under icount every figure repeats exactly, so a few
# hundred operations after the warm-up say all there is to say.
if [ "$quick" = 1 ]; then
	vm_args="-n 100 -p 20 -t 256"
else
	vm_args="-n 1000 -p 500 -t 4096"
fi
# No address-space randomisation anywhere: an address can change an
# alignment, and with it a copy's instruction count.
vm_append="nokaslr norandmaps"
# The icount pass, the same instructions on every boot (bench/README.md,
# "Reproducibility"): no RDRAND/RDSEED, whose values come from the host's
# random generator and reach the slab allocator's freelist shuffling; no
# TSC clocksource, whose frequency the guest refines at boot to 999.999
# or 1000.000 MHz, which moves every tick and every sched_clock() reading
# by a part per million; and VM_DETERMINISTIC=1 (in vm_pass): the RTC from
# a fixed date on the instruction-counted clock instead of the host's wall
# clock (the date read at boot alone moved 1024-byte rows by a few
# instructions per operation), and the same initramfs bytes
# on every run (fixed mtimes, renumbered inodes: the boot unpacks it, and
# the 4->4 streams amplify any difference before them).
icount_cpu="max,-rdrand,-rdseed"
icount_append="$vm_append tsc=unstable"
icount_rtc="base=2024-01-01T00:00:00,clock=vm"

# vm_pass NAME OUTFILE ICOUNT(0|1) VM-RUN-ARGS... : run ipc_bench in the VM;
# the icount pass reads the TSC, which counts instructions there.
vm_pass() {
	local name=$1 out=$2 ic=$3 args=$vm_args cpu=${VM_CPU:-max}
	local append=$vm_append det=0 rc
	shift 3
	if [ "$ic" = 1 ]; then
		args="-T tsc $args"
		cpu=$icount_cpu
		append=$icount_append
		det=1
	fi
	say "$name pass ($(elapsed) so far)"
	BUILD=${VM_ROOT:-$VMROOT} VM_ICOUNT=$ic VM_DETERMINISTIC=$det \
		VM_RTC=$icount_rtc VM_CPU=$cpu VM_APPEND="$append" \
		nice -n "$NICE" \
		"$ROOT/scripts/vm-run.sh" --module "$MODULE" "$@" -- \
		"${VM_PROG:-ipc_bench} $args" >"$out.tmp" 2>"$out.err"
	rc=$?
	if [ $rc -ne 0 ]; then
		cat "$out.err" >&2
		die "$name pass failed (vm-run.sh status $rc; logs in ${VM_ROOT:-$VMROOT}/vm/)"
	fi
	grep -E '^(R,|P,|# )' "$out.tmp" >"$out" ||
		die "$name pass printed no figures"
	rm -f "$out.tmp"
}

if [ "$icount" = 1 ]; then
	vm_pass icount "$RAW/icount.txt" 1 --timeout 1500
	rm -f "$RAW/icount2.txt"
	if [ "$repeat" = 1 ]; then
		vm_pass "icount (again)" "$RAW/icount2.txt" 1 --timeout 1500
	fi
fi
if [ "$wall" = 1 ]; then
	vm_pass "wall-clock (TCG, 2 vCPUs)" "$RAW/wall.txt" 0 --smp 2 \
		--timeout 1500
fi
# The registry at scale (issue 12): reg_bench in the icount VM, from a
# root of its own (the icount pass's initramfs stays as it was). About
# 15 s of QEMU with the module of issue 12's start; the pass has a
# 20-minute limit.
if [ "$registry" = 1 ]; then
	if [ "$quick" = 1 ]; then
		reg_args="-N 100,1000 -M 1,10 -k 100"
	else
		reg_args="-N 100,1000,10000,limit -M 1,100,1000 -k 1000"
	fi
	VM_ROOT=$REGROOT VM_PROG=reg_bench vm_args=$reg_args \
		vm_pass registry "$RAW/registry.txt" 1 --timeout 1200
	rm -f "$RAW/registry2.txt"
	if [ "$repeat" = 1 ]; then
		VM_ROOT=$REGROOT VM_PROG=reg_bench vm_args=$reg_args \
			vm_pass "registry (again)" "$RAW/registry2.txt" 1 \
			--timeout 1200
	fi
	{
		echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
		echo "commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)$(
			[ -n "$(git -C "$ROOT" status --porcelain -- kmod uapi userlib bench 2>/dev/null)" ] && echo ' (with local changes)')"
		echo "chan.ko sha256: $(sha256sum "$MODULE" | cut -d' ' -f1)"
		echo "guest kernel: $("$ROOT/scripts/kver.sh" 2>/dev/null)"
		echo "qemu: $(qemu-system-x86_64 --version | head -n 1)"
		echo "vm: -accel tcg -m 1024 -icount shift=0,sleep=off -smp 1 -cpu $icount_cpu -rtc $icount_rtc, a byte-identical initramfs, kernel args '$icount_append'; clock: the guest TSC (one tick per instruction)"
		echo "reg_bench args: -T tsc $reg_args"
	} >"$RAW/registry-config.txt"
fi
if [ "$profile" = 1 ]; then
	say "profile pass ($(elapsed) so far)"
	BENCH_NICE=$NICE bash "$ROOT/scripts/bench-profile.sh" \
		>"$RAW/profile.txt" 2>"$RAW/profile.err" ||
		{ cat "$RAW/profile.err" >&2; die "profile pass failed"; }
	cp "$RAW/profile.txt" "$RESULTS/profile.txt"
fi

# --- native ------------------------------------------------------------------

if [ "$native" = 1 ]; then
	say "native ring pass ($(elapsed) so far)"
	if [ "$quick" = 1 ]; then
		nargs="-r 2 -t 20"
	else
		nargs="-r ${BENCH_NATIVE_RUNS:-5} -t 150"
	fi
	{
		echo "# loadavg before: $(cut -d' ' -f1-3 /proc/loadavg)"
		# shellcheck disable=SC2086
		nice -n "$NICE" "$BUILD/bench/native/ring_bench" $nargs ||
			echo "# ring_bench failed: status $?"
		echo "# loadavg after: $(cut -d' ' -f1-3 /proc/loadavg)"
	} >"$RAW/native.txt"
	grep -q '^# ring_bench failed' "$RAW/native.txt" &&
		die "ring_bench failed (see $RAW/native.txt)"
fi

# --- report ------------------------------------------------------------------

rc=0
if [ "$registry" = 1 ]; then
	reg_rargs=()
	[ -f "$RAW/registry2.txt" ] && reg_rargs+=(--repeat)
	[ -n "$reg_before" ] && reg_rargs+=(--before "$reg_before")
	python3 "$ROOT/bench/registry_report.py" --raw "$RAW" --out "$RESULTS" \
		"${reg_rargs[@]}"
	rc=$?
	[ $rc -eq 0 ] || [ $rc -eq 3 ] || die "registry report failed"
	cat "$RESULTS/registry.md"
fi
if [ "$others" = 0 ]; then
	say "done in $(elapsed); results in $RESULTS"
	[ $rc -eq 3 ] && exit 3
	exit 0
fi
reg_rc=$rc

{
	echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)$(
		[ -n "$(git -C "$ROOT" status --porcelain -- kmod uapi userlib bench 2>/dev/null)" ] && echo ' (with local changes)')"
	echo "chan.ko sha256: $(sha256sum "$MODULE" 2>/dev/null | cut -c1-16)"
	echo "guest kernel: $("$ROOT/scripts/kver.sh" 2>/dev/null)"
	echo "qemu: $(qemu-system-x86_64 --version | head -n 1)"
	echo "vm: -accel tcg -m 1024"
	echo "icount pass: -icount shift=0,sleep=off -smp 1 -cpu $icount_cpu -rtc $icount_rtc, a byte-identical initramfs, kernel args '$icount_append'; clock: the guest TSC (one tick per instruction)"
	echo "wall pass: -smp 2 -cpu ${VM_CPU:-max}, no icount, kernel args '$vm_append' (noisy)"
	echo "ipc_bench args: $vm_args"
	echo "host cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1) x $(nproc)"
	echo "host kernel: $(uname -r)"
	echo "cc: $(gcc --version | head -n 1); flags -O2 (no -march)"
	echo "niceness: $NICE"
} >"$RAW/config.txt"

rargs=
[ -f "$RAW/icount2.txt" ] && rargs=--repeat
python3 "$ROOT/bench/report.py" --raw "$RAW" --out "$RESULTS" $rargs
rc=$?
[ $rc -eq 0 ] || [ $rc -eq 3 ] || die "report failed"
cat "$RESULTS/results.md"
say "done in $(elapsed); results in $RESULTS"
[ $rc -eq 3 ] || [ $reg_rc -eq 3 ] && exit 3
exit 0
