#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the host-side ring tests and print TAP: the ThreadSanitizer binary,
# the -O2 binary (both under the kselftest harness), then the
# CHAN_DECLARE_TYPED() compile test, one TAP block each. A binary that dies
# before printing all its results (a sanitizer report, a crash, the
# timeout) gets an extra "not ok" line of its own. Exits non-zero if
# anything failed; the results are counted by whoever reads the TAP
# (scripts/check.sh), not here.
#
# Usage: run-host-tests.sh SRCROOT OUTDIR [TEST-NAME...]
# (ring_test -l lists the names; "typed" picks the compile test)

set -u
srcroot=$1
out=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)

# Hard limit per binary; each test also has its own 30 s deadline.
limit=${HOST_TESTS_TIMEOUT:-300}
failed=0

count() {
	grep -c "^$1 " "$2" || true
}

# run_tap NAME LOG COMMAND... - run, show and check one TAP-printing program
run_tap() {
	local name=$1 log=$2 rc plan n_ok n_fail
	shift 2

	echo "# host-tests: $name"
	{ timeout -k 10 "$limit" "$@"; echo $? >"$log.rc"; } 2>&1 | tee "$log"
	rc=$(cat "$log.rc")
	n_ok=$(count ok "$log")
	n_fail=$(count "not ok" "$log")
	plan=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$log" | head -n 1)
	local why=""
	if grep -q "WARNING: ThreadSanitizer" "$log"; then
		why="ThreadSanitizer reported a data race (exit status $rc)"
	elif [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		why="timed out after $limit s"
	elif [ "$rc" != 0 ] && [ "$n_fail" = 0 ]; then
		why="exited with status $rc without reporting a failed test"
	elif [ -z "$plan" ] || [ $((n_ok + n_fail)) -lt "$plan" ]; then
		why="printed $((n_ok + n_fail)) of ${plan:-?} results (exit status $rc)"
	elif [ "$rc" = 0 ] && [ "$n_fail" != 0 ]; then
		why="reported failures but exited 0"
	fi
	if [ -n "$why" ]; then
		printf 'TAP version 13\n1..1\nnot ok 1 %s: %s\n' "$name" "$why"
		n_fail=$((n_fail + 1))
	fi
	[ "$n_fail" = 0 ] || failed=1
}

# ThreadSanitizer needs a narrow mmap layout; newer kernels' larger
# mmap_rnd_bits can defeat it ("unexpected memory mapping"). Without ASLR
# it always works.
tsan_cmd=("$out/ring_test-tsan")
if ! TSAN_OPTIONS=report_bugs=0 "$out/ring_test-tsan" -l \
	>/dev/null 2>"$out/tsan-probe.log" ||
   grep -q "unexpected memory mapping" "$out/tsan-probe.log"; then
	echo "# ThreadSanitizer cannot start here; running it with ASLR off"
	tsan_cmd=(setarch "$(uname -m)" -R "$out/ring_test-tsan")
fi

# The names given, as the harness's filters.
filters=()
typed=$#
for t in "$@"; do
	if [ "$t" = typed ]; then
		typed=0
	else
		filters+=(-t "$t")
	fi
done

export TSAN_OPTIONS="halt_on_error=1 exitcode=66 ${TSAN_OPTIONS:-}"
if [ $# = 0 ] || [ ${#filters[@]} -gt 0 ]; then
	run_tap "ring_test-tsan" "$out/ring_test-tsan.log" "${tsan_cmd[@]}" \
		${filters[@]+"${filters[@]}"}
	run_tap "ring_test-O2" "$out/ring_test-O2.log" "$out/ring_test-O2" \
		${filters[@]+"${filters[@]}"}
fi
if [ "$typed" = 0 ]; then
	run_tap "typed_compile" "$out/typed_compile.log" \
		"$here/typed_compile.sh" "$srcroot" "$out/typed"
fi
[ "$failed" = 0 ]
