#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# chan's KUnit tests (kmod/tests/chan_kunit.c) in the test VM: load
# chan_kunit.ko from $CHAN_KAPI_DIR (default /opt/chan/kapi), which runs
# its suites, and turn each test case's KTAP result in
# /sys/kernel/debug/kunit/<suite>/results (CONFIG_KUNIT_DEBUGFS) into a TAP
# result line for scripts/check.sh:
#   ok - kunit <suite>.<case>        not ok - kunit <suite>.<case>
# A suite that reports no case, a failed load or unload is a failure.
# The module is built only for a kernel with KUnit (kmod/examples/Kbuild):
# without it, and without KUnit in the kernel, this prints nothing at all,
# neither pass nor skip. Installed as chan_kunit next to the selftests.

dir=${CHAN_KAPI_DIR:-/opt/chan/kapi}
ko=$dir/chan_kunit.ko
dbg=/sys/kernel/debug/kunit
suites="chan_ring chan_kapi"

if [ ! -f "$ko" ]; then
	if [ -d "$dbg" ]; then
		echo "not ok - kunit: the kernel has KUnit but $ko is missing"
		exit 1
	fi
	exit 0
fi
if [ ! -d "$dbg" ]; then
	echo "not ok - kunit: $ko was built for KUnit, but $dbg is missing"
	exit 1
fi
if ! insmod "$ko"; then
	echo "not ok - kunit: insmod $ko failed"
	exit 1
fi

failed=0
for suite in $suites; do
	results=$dbg/$suite/results
	n=0
	if [ -r "$results" ]; then
		# Case lines are indented; the suite's own line is not.
		while IFS= read -r line; do
			case $line in
			" "*) ;;
			*) continue ;;
			esac
			# shellcheck disable=SC2086 # split the KTAP line
			set -- $line
			verdict=ok
			if [ "$1" = not ]; then
				verdict="not ok"
				shift
			fi
			[ "$1" = ok ] || continue
			shift 2		# "ok" and the number
			[ "$1" = - ] && shift
			name=$1
			shift
			n=$((n + 1))
			[ "$verdict" = ok ] || failed=1
			# The rest ("# SKIP reason") is passed on, if any.
			printf '%s - kunit %s.%s%s\n' "$verdict" "$suite" \
				"$name" "${*:+ $*}"
		done <"$results"
	fi
	if [ "$n" = 0 ]; then
		echo "not ok - kunit: suite $suite reported no test case"
		failed=1
	fi
done

if ! rmmod chan_kunit; then
	echo "not ok - kunit: rmmod chan_kunit failed"
	failed=1
fi
exit "$failed"
