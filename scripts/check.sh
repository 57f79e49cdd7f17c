#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# What `make check` runs once the module (for Debian's kernel and for the
# debug kernel), libchan and the selftests are built: the host-side tests,
# the Debian packages (scripts/deb.sh --dkms, then make package-test
# unless CHAN_PACKAGE_TEST=0), then the selftest suite
# inside a VM of each kernel: Debian's (6.1), the debug one, Debian's
# PREEMPT_RT one and Debian 12's 6.12 (--kernels picks them, --no-host
# skips the host side and the packages).  All
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

host=1
kernels=debian,debug,rt,6.12
while [ $# -gt 0 ]; do
	case $1 in
	--no-host) host=0 ;;
	--kernels) kernels=$2; shift ;;
	*) echo "usage: $0 [--no-host] [--kernels debian,debug,rt,6.12]" >&2; exit 2 ;;
	esac
	shift
done

host_pass=0 host_fail=0 host_skip=0
if [ "$host" = 1 ]; then
	say "check: host tests"
	step host make --no-print-directory -C "$ROOT/selftests" host-tests
	host_rc=$rc
	read -r host_pass host_fail host_skip < <(count "$tmp/host")
	if [ "$host_rc" != 0 ] && [ "$host_fail" = 0 ]; then
		result fail "host tests exited with status $host_rc without a failing test"
	fi
fi

# The Debian packages (make deb: dpkg-buildpackage, lintian) and DKMS
# builds of their module source against 6.1 and 6.12 on this host (never
# loaded): scripts/deb.sh's TAP lines are counted with the host tests.
# Then make package-test (the packages installed and removed in a Debian
# 12 VM of both kernels, docs/install.md), unless CHAN_PACKAGE_TEST=0.
if [ "$host" = 1 ]; then
	say "check: Debian packages"
	step packages "$ROOT/scripts/deb.sh" --dkms
	pkg_rc=$rc
	read -r p f k < <(count "$tmp/packages")
	host_pass=$((host_pass + p)) host_fail=$((host_fail + f)) host_skip=$((host_skip + k))
	if [ "$pkg_rc" != 0 ] && [ "$f" = 0 ]; then
		result fail "make deb exited with status $pkg_rc without a failing test"
	fi
	if [ "${CHAN_PACKAGE_TEST:-1}" = 1 ]; then
		say "check: package test (Debian 12 VM)"
		step pkgtest "$ROOT/scripts/package-test.sh"
		pkg_rc=$rc
		read -r p f k < <(count "$tmp/pkgtest")
		host_pass=$((host_pass + p)) host_fail=$((host_fail + f)) host_skip=$((host_skip + k))
		if [ "$pkg_rc" != 0 ] && [ "$f" = 0 ]; then
			result fail "package-test exited with status $pkg_rc without a failing test"
		fi
	fi
fi

# vm_suite NAME VM-RUN-OPTIONS...: the selftest suite in one VM.
vm_pass=0 vm_fail=0 vm_skip=0
vm_suite() {
	local name=$1 p f k
	shift
	say "check: VM tests ($name kernel)"
	# shellcheck disable=SC2086 # SUITE_TESTS is a list of binaries
	step "vm-$name" "$ROOT/scripts/vm-run.sh" "$@" -- /opt/chan/selftests/run_vm_tests.sh ${SUITE_TESTS:-}
	read -r p f k < <(count "$tmp/vm-$name")
	vm_pass=$((vm_pass + p)) vm_fail=$((vm_fail + f)) vm_skip=$((vm_skip + k))
	if [ "$rc" -lt 90 ]; then
		result ok "$name kernel: log clean, exit marker seen, module unloaded"
		if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
			result fail "$name kernel: vm tests exited with status $rc without a failing test"
		fi
	else
		result fail "$name kernel: log clean, exit marker seen, module unloaded (vm-run.sh status $rc)"
	fi
}

# kapi_add DIR: the modules of the in-kernel API built for a kernel in DIR
# (scripts/kapi-build.sh) as --add options in $kapi, for the guest's
# /opt/chan/kapi/ (chan_kapi_test, chan_kunit).
kapi_add() {
	local ko
	kapi=()
	for ko in "$1"/*.ko; do
		[ -f "$ko" ] && kapi+=(--add "$ko:/opt/chan/kapi/")
	done
}

for kernel in ${kernels//,/ }; do
	case $kernel in
	debian)
		kapi_add "$BUILD/kapi"
		vm_suite debian --timeout 1800 "${kapi[@]}"
		# The stress and memory-pressure tests again in a VM of 128 MiB,
		# with only their binaries: the rootfs is unpacked into RAM.
		SUITE_TESTS="chan_mempressure_test chan_stress_test" \
		VM_SELFTESTS="run_vm_tests.sh chan_mempressure_test chan_stress_test" \
			vm_suite debian-128M --timeout 900 --mem 128
		;;
	debug)
		# Built (or reused from its cache) by `make module-debug`.
		if tree=$("$ROOT/scripts/debug-kernel.sh") &&
			[ -f "$BUILD/debug-module/chan.ko" ]; then
			# Its own hung-task timeout (60 s), not vm-run.sh's.
			kapi_add "$BUILD/debug-module/kapi"
			# Its fragment enables KUnit: the KUnit tests must run.
			[ -f "$BUILD/debug-module/kapi/chan_kunit.ko" ] ||
				result fail "debug kernel: chan_kunit.ko not built (no KUnit?)"
			# Its boot is the slowest (KASAN, lockdep): the boot
			# watchdog waits twice vm-run.sh's default.
			VM_BOOT_SECS=600 VM_HUNG_TASK_SECS=60 vm_suite debug --timeout 2400 \
				--mem 2048 --kernel "$tree/arch/x86/boot/bzImage" \
				--module "$BUILD/debug-module/chan.ko" "${kapi[@]}"
		else
			result fail "debug kernel or module missing (make module-debug)"
		fi
		;;
	rt)
		# Debian's PREEMPT_RT flavour: spinlocks sleep there. Built by
		# `make module-rt`.
		rtver=$("$ROOT/scripts/kver.sh" rt)
		if [ -f "/boot/vmlinuz-$rtver" ] && [ -f "$BUILD/rt-module/chan.ko" ]; then
			kapi_add "$BUILD/rt-module/kapi"
			vm_suite rt --timeout 1800 --kernel "/boot/vmlinuz-$rtver" \
				--module "$BUILD/rt-module/chan.ko" "${kapi[@]}"
		else
			result fail "PREEMPT_RT kernel or module missing (make module-rt)"
		fi
		;;
	6.12)
		# Debian 12's other series (Debian 13's, a current LTS).
		# Built by `make module-6.12`.
		v612=$("$ROOT/scripts/kver.sh" 6.12)
		if [ -n "$v612" ] && [ -f "/boot/vmlinuz-$v612" ] &&
			[ -f "$BUILD/6.12-module/chan.ko" ]; then
			kapi_add "$BUILD/6.12-module/kapi"
			vm_suite 6.12 --timeout 1800 --kernel "/boot/vmlinuz-$v612" \
				--module "$BUILD/6.12-module/chan.ko" "${kapi[@]}"
		else
			result fail "6.12 kernel or module missing (make module-6.12)"
		fi
		;;
	*)
		result fail "unknown kernel $kernel"
		;;
	esac
done

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
