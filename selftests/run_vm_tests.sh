#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run the chan selftests inside the test VM (busybox sh), one binary after
# the other, the module unload/reload test last (chan_kunit, a script,
# reports the KUnit tests where the kernel has KUnit, and nothing
# elsewhere). Only the harness's TAP result lines ("ok N name", "not ok N
# name", "ok N # SKIP reason") and its "#" diagnostics are passed on. A
# binary that exits non-zero without a "not ok" line of its own (a crash,
# or killed by its time limit) gets one:
#   not ok - <binary> crashed or hung (exit N)
# The exit status is 0 only if nothing failed. The results are counted by
# whoever reads the TAP (scripts/check.sh), not here.
#
# usage: run_vm_tests.sh [BINARY...]   (default: all, in the order below)
# CHAN_TEST_TIMEOUT=SECONDS replaces every binary's time limit (a slow
# debug kernel may need more).

dir=$(cd "$(dirname "$0")" && pwd)

# binary:seconds. The harness has its own per-test limits (TEST_F_TIMEOUT);
# these catch a binary that wedges outside of them. TCG is slow.
all="chan_view_test:300
chan_abi_test:300 chan_io_test:600 chan_lifecycle_test:900
chan_poll_test:300 chan_stress_test:900 chan_chaos_test:600
chan_mempressure_test:300 chan_fuzz_test:900 chan_attack_test:900
chan_batch_test:600 chan_mmap_test:900 chan_repair_test:1200
chan_review_test:300 chan_close_test:300 chan_crc_test:600
chan_ctl_test:300 chan_kapi_test:600 chan_stream_test:600
chan_bcast_test:900 chan_stats_test:300 chan_spsc_test:900
chan_review2_test:300 chan_streammap_test:900 chan_review3_test:300
chan_review4_test:300 chan_spscinline_test:600 chan_kunit:600 chan_module_test:300"

tmp=$(mktemp -d /tmp/chan-tests.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT

# Kill what a killed binary leaves behind: the harness runs each test in a
# process group of its own, so the binary's death does not take them along.
# /proc/PID/comm holds the first 15 characters of the name.
reap_strays() {
	short=$(printf '%.15s' "$1")
	for p in /proc/[0-9]*; do
		pid=${p#/proc/}
		[ "$pid" = "$$" ] && continue
		comm=$(cat "$p/comm" 2>/dev/null) || continue
		[ "$comm" = "$short" ] && kill -9 "$pid" 2>/dev/null
	done
}

# Read a binary's output, pass on the TAP lines, note a failure.
filter() {
	while IFS= read -r line; do
		case $line in
		"not ok "*)
			printf '%s\n' "$line"
			: >"$tmp/failed"
			: >"$tmp/had_not_ok"
			;;
		"ok "*)
			printf '%s\n' "$line"
			;;
		"#  RUN "*)
			# shellcheck disable=SC2086 # split off the name
			set -- ${line#\#  RUN }
			printf '%s\n' "$1" >"$tmp/last"
			;;
		"#"*" OK "*|"#"*" FAIL "*|"# Totals:"*|"# Starting "*) ;;
		"#"*)
			printf '%s\n' "$line"
			;;
		esac
	done
}

if [ $# -gt 0 ]; then
	list=
	for b in "$@"; do
		t=300
		for e in $all; do
			[ "${e%%:*}" = "$b" ] && t=${e#*:}
		done
		list="$list $b:$t"
	done
else
	list=$all
fi

for e in $list; do
	bin=${e%%:*}
	limit=${CHAN_TEST_TIMEOUT:-${e#*:}}
	echo "# $bin"
	if [ ! -x "$dir/$bin" ]; then
		echo "not ok - $bin missing"
		: >"$tmp/failed"
		continue
	fi
	rm -f "$tmp/had_not_ok" "$tmp/last" "$tmp/rc"
	# Strays are reaped on the writing side of the pipe: they hold it
	# open, and the filter would wait for them forever.
	{
		timeout -s KILL "$limit" "$dir/$bin" </dev/null 2>&1
		echo $? >"$tmp/rc"
		reap_strays "$bin"
	} | filter
	rc=$(cat "$tmp/rc" 2>/dev/null || echo 255)
	if [ "$rc" != 0 ] && [ ! -f "$tmp/had_not_ok" ]; then
		[ -f "$tmp/last" ] && echo "# last test started: $(cat "$tmp/last")"
		echo "not ok - $bin crashed or hung (exit $rc)"
		: >"$tmp/failed"
	fi
done

[ ! -f "$tmp/failed" ]
