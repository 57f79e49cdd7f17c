#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# What `make check` runs once the module, libchan and the selftests are
# built: the host-side tests, then the selftest suite inside the VM.  All
# output also goes to $BUILD/check.log.  TAP result lines of both are counted
# ("ok ...", "not ok ...", a "# SKIP" directive counts as skipped), plus a few
# results of our own:
#   - vm kernel log clean and exit marker seen: vm-run.sh exited 0, or 1..89
#     (only the test command failed); 90+ means timeout, crash, insmod or
#     rmmod failure or a dirty kernel log (see scripts/vm-run.sh);
#   - a failure for a suite whose command failed without any "not ok" line
#     (build error, crash between tests, missing runner).
# The last line is "N passed, N failed[, N skipped]"; the exit status is
# non-zero if anything failed or no test ran at all.

set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
export BUILD
mkdir -p "$BUILD"
log=$BUILD/check.log
: >"$log"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

say() {
	printf '%s\n' "$*" | tee -a "$log"
}

# step NAME COMMAND...: run it, show and log its output, keep a copy in
# $tmp/NAME, and leave its exit status in $rc.
step() {
	local name=$1
	shift
	"$@" </dev/null 2>&1 | tee -a "$log" "$tmp/$name"
	rc=${PIPESTATUS[0]}
}

# count FILE: "passed failed skipped" over its TAP result lines.
count() {
	awk '/^(not )?ok / {
		if (tolower($0) ~ /#[ \t]*skip/) skip++
		else if (/^ok /) pass++
		else fail++
	}
	END { print pass + 0, fail + 0, skip + 0 }' "$1"
}

extra_pass=0
extra_fail=0
result() {
	if [ "$1" = ok ]; then
		extra_pass=$((extra_pass + 1))
		say "ok - $2"
	else
		extra_fail=$((extra_fail + 1))
		say "not ok - $2"
	fi
}

say "check: host tests"
step host make --no-print-directory -C "$ROOT/selftests" host-tests
host_rc=$rc
read -r host_pass host_fail host_skip < <(count "$tmp/host")
if [ "$host_rc" != 0 ] && [ "$host_fail" = 0 ]; then
	result fail "host tests exited with status $host_rc without a failing test"
fi

say "check: VM tests"
step vm "$ROOT/scripts/vm-run.sh" --timeout 1200 -- /opt/chan/selftests/run_vm_tests.sh
vm_rc=$rc
read -r vm_pass vm_fail vm_skip < <(count "$tmp/vm")
if [ "$vm_rc" -lt 90 ]; then
	result ok "vm kernel log clean and exit marker seen"
	if [ "$vm_rc" != 0 ] && [ "$vm_fail" = 0 ]; then
		result fail "vm tests exited with status $vm_rc without a failing test"
	fi
else
	result fail "vm kernel log clean and exit marker seen (vm-run.sh status $vm_rc)"
fi

passed=$((host_pass + vm_pass + extra_pass))
failed=$((host_fail + vm_fail + extra_fail))
skipped=$((host_skip + vm_skip))
status=0
[ "$failed" = 0 ] || status=1
if [ $((host_pass + host_fail + vm_pass + vm_fail)) = 0 ]; then
	say "check: no test ran"
	status=1
fi
if [ "$skipped" -gt 0 ]; then
	say "$passed passed, $failed failed, $skipped skipped"
else
	say "$passed passed, $failed failed"
fi
exit "$status"
