#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot Debian's packaged kernel (the one matching the installed headers, never
# the host's own) under QEMU/TCG with a busybox initramfs that holds chan.ko,
# $BUILD/bin, $BUILD/selftests and the --add files; load the module, run one
# command, unload the module and check the kernel log.
#
# usage: scripts/vm-run.sh [--interactive] [--timeout SECONDS] [--mem MiB]
#                          [--smp N] [--kernel VMLINUZ] [--module PATH|none]
#                          [--add SRC[:DEST]]... [-- COMMAND...]
#
# --timeout 0 means no time limit (default 600 s; --interactive has none).
# One COMMAND word is a shell command line (`-- 'a; b'`); several words are an
# argv, quoted for the guest's sh (`-- chanctl create "a b"`).
# Files in the guest: static binaries in $BUILD/bin are on the guest's PATH
# (/opt/chan/bin), the selftests in /opt/chan/selftests.  --add SRC[:DEST]
# (repeatable) copies the file or directory SRC to DEST in the guest:
# /opt/chan/bin/ (on the PATH) when DEST is left out, into DEST when it ends
# in "/".  The guest has no shared libraries: link programs statically.
#
# The guest runs scripts/vm-init.sh as PID 1.  Serial ports: ttyS0 is the
# kernel console (console.log); ttyS1 carries only the command's
# stdout+stderr (output.log, streamed to our stdout), so kernel messages
# never interleave with test output; ttyS2 receives a full `dmesg` at the end
# (dmesg.log).  The last run's logs and initramfs stay in $BUILD/vm/.
#
# The kernel panics on a WARN, an Oops, a soft lockup, a hung task (after
# $VM_HUNG_TASK_SECS, default 120 s) and an RCU stall (boot arguments
# below); after a panic QEMU exits and the run fails with 92.  What cannot
# panic (kmemleak's report, lockdep's, "BUG:" reports that only taint) is
# found by a scan of the kernel log afterwards (95).
#
# Environment: VM_ICOUNT=1 adds `-icount shift=0,sleep=off` and forces one
# vCPU (instruction-counted clock for benchmarks); VM_APPEND adds kernel
# arguments; VM_CPU overrides the QEMU CPU model (default "max": SMAP and SMEP
# make the guest fault on kernel code touching user memory directly).
# VM_DETERMINISTIC=1 (benchmarks) builds the initramfs byte for byte the same
# on every run and, with VM_ICOUNT=1, runs the RTC on the virtual clock from a
# fixed date (VM_RTC, a QEMU -rtc value), so that two boots execute the same
# instructions (bench/README.md, "Reproducibility"). VM_SELFTESTS, a list
# of file names, copies only those of $BUILD/selftests (a VM of little
# memory cannot unpack them all).
#
# Boot watchdog: a guest whose init has not started within VM_BOOT_SECS
# (default 300, 0 for none; an idle host boots the debug kernel in about
# 20 s, Debian's in 8) hung in the kernel's own boot, before the module
# was loaded (seen with two vCPUs: the second never started).  QEMU is
# killed and the guest booted again, three boots in all; each retry is
# said on stderr, and so is a run that passed on a later boot, with the
# hung boot's console and vCPU registers kept as
# $BUILD/vm/console-boot-hang-N.log.  --timeout counts from each boot.
#
# Exit status:
#   0       the command exited 0 and the kernel log is clean
#   1..89   the command failed: its own status (statuses >= 90 become 1, so
#           that the range below stays the runner's)
#   90      usage or setup error (bad option, no kernel, no module, ...)
#   91      timeout: QEMU killed after --timeout seconds, or three boots
#           that hung before the guest's init started
#   92      the kernel panicked (WARN, Oops, BUG, lockup, hung task, RCU
#           stall: the reason is printed), or the VM stopped without
#           reporting an exit status (init died)
#   93      insmod of the module failed
#   94      the module did not unload after the command (rmmod failed)
#   95      the kernel log is not clean (kmemleak, lockdep, BUG reports that
#           do not panic, a stack trace)
# When several apply, every reason is printed and the lowest code is returned.

set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}

die() {
	echo "vm-run: $*" >&2
	exit 90
}

usage() {
	sed -n 's/^# \{0,1\}//; 9,24p' "$0" >&2
	exit 90
}

interactive=0
timeout=600
mem=1024
smp=2
kernel=
module=$ROOT/chan.ko
module_given=0
adds=()
while [ $# -gt 0 ]; do
	case $1 in
	--interactive) interactive=1 ;;
	--timeout) [ $# -ge 2 ] || usage; timeout=$2; shift ;;
	--mem) [ $# -ge 2 ] || usage; mem=$2; shift ;;
	--smp) [ $# -ge 2 ] || usage; smp=$2; shift ;;
	--kernel) [ $# -ge 2 ] || usage; kernel=$2; shift ;;
	--module) [ $# -ge 2 ] || usage; module=$2; module_given=1; shift ;;
	--add) [ $# -ge 2 ] || usage; adds+=("$2"); shift ;;
	--) shift; break ;;
	-h|--help) usage ;;
	*) echo "vm-run: unknown argument: $1" >&2; usage ;;
	esac
	shift
done
for n in "$timeout" "$mem" "$smp"; do
	case $n in ''|*[!0-9]*) die "not a number: '$n'" ;; esac
done
[ "$smp" -ge 1 ] || die "--smp must be at least 1"

if [ $# -eq 1 ]; then
	cmd=$1
elif [ $# -gt 1 ]; then
	# Quote each word for the guest's POSIX sh: '...' with ' as '\''.
	cmd=
	for w in "$@"; do
		cmd="$cmd '${w//\'/\'\\\'\'}'"
	done
	cmd=${cmd# }
else
	cmd=
fi
if [ "$interactive" = 1 ] && [ -n "$cmd" ]; then
	die "--interactive takes no COMMAND"
fi
if [ "$interactive" = 0 ] && [ -z "$cmd" ]; then
	die "no COMMAND given (use -- COMMAND, or --interactive)"
fi

if [ -z "$kernel" ]; then
	kver=${KVER:-$("$ROOT/scripts/kver.sh")}
	[ -n "$kver" ] || die "cannot tell the kernel version (run scripts/deps.sh)"
	kernel=/boot/vmlinuz-$kver
	[ -r "$kernel" ] || die "$kernel not found: install linux-image-$kver (scripts/deps.sh)"
fi
[ -r "$kernel" ] || die "kernel $kernel not found"

if [ "$module" = none ]; then
	module=
	modname=
else
	if [ ! -f "$module" ]; then
		if [ "$module_given" = 1 ]; then
			die "module $module not found"
		fi
		die "$module not found: run 'make module' first, or pass --module none"
	fi
	# The name rmmod and /sys/module know it by.
	modname=$(basename "$module" .ko)
	modname=${modname//-/_}
fi

busybox=/bin/busybox
[ -x "$busybox" ] || die "$busybox not found: install busybox-static (scripts/deps.sh)"
if LC_ALL=C readelf -l "$busybox" 2>/dev/null | grep -q 'program interpreter'; then
	die "$busybox is dynamically linked: install busybox-static"
fi
command -v qemu-system-x86_64 >/dev/null ||
	die "qemu-system-x86_64 not found: install qemu-system-x86 (scripts/deps.sh)"

# A private directory per run, so that two runs sharing $BUILD do not clobber
# each other; the logs are copied to $BUILD/vm/ at the end.
mkdir -p "$BUILD/vm" || die "cannot create $BUILD/vm"
# Leftovers of runs that were killed with no chance to clean up.
find "$BUILD/vm" -maxdepth 1 -name 'run.*' -mmin +1440 -exec rm -rf {} + 2>/dev/null
work=$(mktemp -d "$BUILD/vm/run.XXXXXX") || die "cannot create a run directory"
qpid=
wdpid=
bootpid=
tailpid=
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	for p in $wdpid $bootpid $qpid $tailpid; do
		kill "$p" 2>/dev/null
	done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- initramfs ---------------------------------------------------------------

stage=$work/root
mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,run,root} \
	"$stage"/lib/modules "$stage"/opt/chan/{bin,selftests} || die "cannot stage"
cp "$busybox" "$stage/bin/busybox" || die "cannot copy busybox"
# Applet links made here rather than with --install at boot: no work for TCG.
"$busybox" --list-full | while read -r applet; do
	[ -e "$stage/$applet" ] || ln -s /bin/busybox "$stage/$applet"
done
if [ -n "$module" ]; then
	cp "$module" "$stage/lib/modules/chan.ko" || die "cannot copy $module"
fi
added=()
for d in bin selftests; do
	if [ "$d" = selftests ] && [ -n "${VM_SELFTESTS:-}" ]; then
		# Only these (a small VM's rootfs cannot unpack every binary).
		for f in $VM_SELFTESTS; do
			cp -a "$BUILD/$d/$f" "$stage/opt/chan/$d/" ||
				die "cannot copy $BUILD/$d/$f"
		done
	elif [ -d "$BUILD/$d" ]; then
		cp -a "$BUILD/$d/." "$stage/opt/chan/$d/" || die "cannot copy $BUILD/$d"
	fi
done
for a in ${adds[@]+"${adds[@]}"}; do
	src=${a%%:*}
	dest=/opt/chan/bin/
	[ "$src" != "$a" ] && dest=${a#*:}
	case $dest in
	/*) ;;
	*) die "--add $a: DEST must be an absolute path in the guest" ;;
	esac
	[ -e "$src" ] || die "--add $a: $src not found"
	case $dest in
	*/) mkdir -p "$stage$dest" ;;
	*) mkdir -p "$(dirname "$stage$dest")" ;;
	esac || die "--add $a: cannot create its directory"
	cp -a "$src" "$stage$dest" || die "--add $a: cannot copy $src"
	added+=("$stage$dest")
done
# The initramfs has no libc: say so now instead of a puzzling "not found".
find "$stage/opt/chan" ${added[@]+"${added[@]}"} -type f -perm -u+x -print0 |
	sort -zu | while IFS= read -r -d '' f; do
	if LC_ALL=C readelf -l "$f" 2>/dev/null | grep -q 'program interpreter'; then
		echo "vm-run: warning: ${f#"$stage"} is dynamically linked; the VM has no shared libraries" >&2
	fi
done
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$stage/etc/passwd"
printf 'root:x:0:\n' >"$stage/etc/group"
printf '%s\n' "$cmd" >"$stage/etc/chan-cmd"
{
	printf 'VM_INTERACTIVE=%s\n' "$interactive"
	printf 'VM_MODULE=%s\n' "${module:+/lib/modules/chan.ko}"
	printf 'VM_MODNAME=%s\n' "$modname"
} >"$stage/etc/chan-vm.conf"

cp "$ROOT/scripts/vm-init.sh" "$stage/init" || die "cannot copy the init"
chmod 755 "$stage/init"

initramfs=$work/initramfs.cpio.gz
cpio_opts=()
if [ "${VM_DETERMINISTIC:-0}" = 1 ]; then
	# The same bytes on every run: the kernel unpacks the initramfs at boot,
	# and different mtimes or inode numbers make the inflate and the unpack
	# run a different number of instructions.  (gzip stores no name and no
	# time for its standard input.)
	find "$stage" -exec touch -h -d @0 {} + || die "cannot set mtimes"
	cpio_opts=(--reproducible)
fi
(cd "$stage" && find . -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc -R 0:0 --quiet "${cpio_opts[@]}") |
	gzip -1 >"$initramfs" ||
	die "cannot build the initramfs"

# --- QEMU ---------------------------------------------------------------------

# A dirty kernel stops the run by itself: panic on a WARN (KASAN, UBSAN
# and KFENCE reports and "scheduling while atomic" too), an Oops, a soft or
# hard lockup, an RCU stall, and a task blocked in D state for
# VM_HUNG_TASK_SECS: TCG is slow and the long tests legitimately block, so
# Debian's own default of 120 s (check.sh keeps the debug kernel's 60).
# panic=-1 reboots at once, which -no-reboot turns into QEMU's exit.
# loglevel=5: warnings and worse reach the live console (console.log) even
# if the VM dies before the final dmesg; everything else is in dmesg.log.
append="console=ttyS0 loglevel=5 sysrq_always_enabled panic=-1 oops=panic"
append="$append panic_on_warn=1 softlockup_panic=1 nmi_watchdog=panic hung_task_panic=1"
append="$append hung_task_timeout_secs=${VM_HUNG_TASK_SECS:-120}"
append="$append sysctl.kernel.panic_on_rcu_stall=1 ${VM_APPEND:-}"

qemu=(qemu-system-x86_64 -accel tcg -cpu "${VM_CPU:-max}" -m "$mem"
	-nographic -no-reboot -nodefaults -no-user-config
	-kernel "$kernel" -initrd "$initramfs" -append "$append")
if [ "${VM_ICOUNT:-0}" = 1 ]; then
	qemu+=(-icount 'shift=0,sleep=off' -smp 1)
	if [ "${VM_DETERMINISTIC:-0}" = 1 ]; then
		# The RTC on the virtual (instruction-counted) clock from a fixed
		# date, not the host's wall clock: the boot reads it, and the date
		# alone changed 1024-byte rows by a few instructions per operation
		# (through the entropy pool, most likely).
		qemu+=(-rtc "${VM_RTC:-base=2024-01-01T00:00:00,clock=vm}")
	fi
else
	qemu+=(-smp "$smp")
fi

console=$work/console.log
output=$work/output.log
dmesg=$work/dmesg.log
: >"$console"
: >"$output"
: >"$dmesg"
# QEMU option values escape a comma by doubling it.
qemu+=(-chardev "file,id=out,path=${output//,/,,},append=on"
	-chardev "file,id=kmsg,path=${dmesg//,/,,},append=on")

keep_logs() {
	for f in console.log output.log dmesg.log qemu.log initramfs.cpio.gz; do
		if [ -e "$work/$f" ]; then
			mv -f "$work/$f" "$BUILD/vm/$f"
		else
			rm -f "$BUILD/vm/$f"
		fi
	done
	rm -f "$BUILD"/vm/console-boot-hang-*.log
	for f in "$work"/console-boot-hang-*.log; do
		[ -e "$f" ] && mv -f "$f" "$BUILD/vm/"
	done
}

# The guest's init has started (vm-init.sh's first line on ttyS1).
booted() {
	grep -q '^CHAN-VM-BOOTED' "$output" 2>/dev/null
}

# For the watchdogs, which sleep in the background so that a TERM acts at
# once: each sets s= and traps TERM with 'kill $s'.
nap() {
	sleep "$1" &
	s=$!
	wait "$s"
}

timed_out=0
boot_hung=0
attempt=1
boot_secs=${VM_BOOT_SECS:-300}
case $boot_secs in ''|*[!0-9]*) die "VM_BOOT_SECS is not a number: '$boot_secs'" ;; esac
boot_tries=3
if [ "$interactive" = 1 ]; then
	# ttyS0 and the monitor share stdio (Ctrl-A x quits, Ctrl-A c is the
	# monitor); Ctrl-C goes to the guest.  A copy of the console is kept.
	qemu+=(-chardev "stdio,id=con,mux=on,signal=off,logfile=${console//,/,,}"
		-serial chardev:con -mon 'chardev=con,mode=readline'
		-serial chardev:out -serial chardev:kmsg)
	"${qemu[@]}"
	qrc=$?
else
	# A monitor on a FIFO pair lets the watchdog ask the guest for a
	# blocked-task dump before it kills QEMU.
	qemu+=(-serial "file:$console" -serial chardev:out -serial chardev:kmsg
		-monitor "pipe:$work/mon")
	while :; do
		# New FIFOs for each boot: nothing a killed QEMU left unread
		# reaches the next one.  Opened read-write, mon.in never blocks
		# the watchdogs; the monitor's few replies fit in mon.out's pipe
		# buffer, which QEMU holds open.
		exec 4>&-
		rm -f "$work/boot-hung" "$work/boot-regs" "$work/mon.in" \
			"$work/mon.out"
		mkfifo "$work/mon.in" "$work/mon.out" || die "mkfifo failed"
		exec 4<>"$work/mon.in"
		"${qemu[@]}" </dev/null >"$work/qemu.log" 2>&1 &
		qpid=$!
		if [ "$timeout" -gt 0 ]; then
			(
				s=
				trap 'kill $s 2>/dev/null; exit 0' TERM
				nap "$timeout"
				: >"$work/timed-out"
				# SysRq 9: console shows all levels; w: blocked
				# tasks; l: all CPUs.  Then kill.
				printf 'sendkey alt-sysrq-9\nsendkey alt-sysrq-w\n' >&4
				nap 2
				printf 'sendkey alt-sysrq-l\n' >&4
				nap 3
				kill -TERM "$qpid" 2>/dev/null
				nap 10
				kill -KILL "$qpid" 2>/dev/null
			) </dev/null >/dev/null 2>&1 &
			wdpid=$!
		fi
		# The boot watchdog: a guest whose init has not said
		# CHAN-VM-BOOTED after $boot_secs hung in the kernel's own boot
		# (seen under TCG with two vCPUs: the second never started, the
		# first idle), before the module was loaded.  Killed and booted
		# again, at most $boot_tries times in all; said on stderr.
		[ "$boot_secs" -gt 0 ] && (
			s=
			trap 'kill $s 2>/dev/null; exit 0' TERM
			i=0
			while [ $i -lt "$boot_secs" ]; do
				booted && exit 0
				nap 1
				i=$((i + 1))
			done
			# Where each vCPU stopped, for the log kept below.
			printf 'info registers -a\n' >&4
			timeout 2 cat "$work/mon.out" >"$work/boot-regs"
			booted && exit 0
			: >"$work/boot-hung"
			kill -KILL "$qpid" 2>/dev/null
		) </dev/null >/dev/null 2>&1 &
		[ "$boot_secs" -gt 0 ] && bootpid=$!
		# Live copy of the command's output, without the runner's markers.
		tail -n +1 -s 0.2 --pid="$qpid" -f "$output" |
			sed -u -e '/^CHAN-VM-[A-Z-]* [0-9]*$/d' \
				-e 's/CHAN-VM-[A-Z-]* [0-9]*$//' &
		tailpid=$!
		# (No "Killed" job report from bash: the verdict says why.)
		wait "$qpid" 2>/dev/null
		qrc=$?
		qpid=
		wait "$tailpid"
		tailpid=
		for p in $wdpid $bootpid; do
			kill "$p" 2>/dev/null
			wait "$p" 2>/dev/null
		done
		wdpid=
		bootpid=
		if [ ! -e "$work/boot-hung" ] || [ -e "$work/timed-out" ]; then
			break
		fi
		{
			cat "$console"
			printf '\n--- QEMU monitor: info registers -a ---\n'
			tr -d '\r' <"$work/boot-regs"
		} >"$work/console-boot-hang-$attempt.log"
		if [ "$attempt" -ge "$boot_tries" ]; then
			boot_hung=1
			break
		fi
		echo "vm-run: the guest's init did not start within $boot_secs s (a hang in the kernel's boot, before the module was loaded; console: $BUILD/vm/console-boot-hang-$attempt.log): booting again" >&2
		attempt=$((attempt + 1))
		: >"$console"
		: >"$output"
		: >"$dmesg"
	done
	[ -e "$work/timed-out" ] && timed_out=1
fi

# --- verdict -----------------------------------------------------------------

status=0
fail() {
	echo "vm-run: $2" >&2
	if [ "$status" = 0 ] || [ "$status" -lt 90 ] || [ "$1" -lt "$status" ]; then
		status=$1
	fi
}

exit_rc=$(sed -n 's/.*CHAN-VM-EXIT \([0-9]*\)$/\1/p' "$output" | tail -n 1)
insmod_rc=$(sed -n 's/.*CHAN-VM-INSMOD-FAILED \([0-9]*\)$/\1/p' "$output" | tail -n 1)
rmmod_rc=$(sed -n 's/.*CHAN-VM-RMMOD-FAILED \([0-9]*\)$/\1/p' "$output" | tail -n 1)

if [ "$timed_out" = 1 ]; then
	never=
	booted || never=" before the guest's init started"
	fail 91 "timed out after $timeout s$never; QEMU killed (blocked-task dump in $BUILD/vm/console.log)"
fi
if [ "$boot_hung" = 1 ]; then
	fail 91 "the guest's init did not start within $boot_secs s in $boot_tries boots; QEMU killed (consoles: $BUILD/vm/console-boot-hang-*.log)"
elif [ "$interactive" = 0 ] && [ "$attempt" -gt 1 ]; then
	echo "vm-run: note: the guest booted on attempt $attempt; the earlier boots hung before its init started (consoles: $BUILD/vm/console-boot-hang-*.log)" >&2
fi
if [ -n "$insmod_rc" ]; then
	fail 93 "insmod $module failed (status $insmod_rc)"
fi
if [ -n "$rmmod_rc" ]; then
	fail 94 "rmmod $modname failed after the command (status $rmmod_rc): a leaked reference?"
fi

# A panic: the kernel's reason, and the report that led to it.
panic=$(tr -d '\r' <"$console" | grep -m 1 -E 'Kernel panic - not syncing')
if [ -n "$panic" ]; then
	cause=$(tr -d '\r' <"$console" | grep -m 1 -E -- \
		'WARNING:|BUG:|kernel BUG at|Oops|general protection fault|soft lockup|blocked for more than|rcu.*stall')
	fail 92 "the kernel panicked: ${panic#*\] }${cause:+ (first report: ${cause#*\] })} (see $BUILD/vm/console.log)"
elif [ -z "$exit_rc" ] && [ -z "$insmod_rc" ] && [ "$interactive" = 0 ] &&
	[ "$timed_out" = 0 ] && [ "$boot_hung" = 0 ]; then
	fail 92 "the VM stopped without reporting an exit status (QEMU status $qrc; see $BUILD/vm/console.log)"
	if [ -s "$work/qemu.log" ]; then
		sed 's/^/vm-run: qemu: /' "$work/qemu.log" >&2
	fi
fi

# What does not panic: kmemleak's report, lockdep's reports (they start
# with "WARNING:", "BUG:" or "INFO:" but are no WARN()), "BUG:" reports that
# only taint (sleeping in atomic context, bad page state, SLUB's "BUG
# cache (...)"), and any other stack trace.  Case matters: boot lines such
# as "RETBleed: WARNING: ..." or "loading out-of-tree module taints kernel"
# must not match.  Left out once a panic has been reported: its own trace
# would only repeat it.
bad='BUG:|BUG [^ ]+ \(|^(\[ *[0-9]+\.[0-9]+\] )?(\[ *[TC][0-9]+\] )?WARNING:'
bad="$bad|kmemleak|unreferenced object|suspected memory leak"
bad="$bad|possible circular locking|possible recursive locking"
bad="$bad|inconsistent lock state|INFO: |lockdep: |Call Trace:"
# A user-space GPF ("traps: prog[pid] general protection fault ip:...") is
# the command's crash and shows in its status; kmemleak's start-up lines and
# lockdep's boot banner are not reports.  The command line is echoed at boot
# and may hold any word (VM_APPEND).
benign='traps: .*\[[0-9]+\] general protection fault ip:|[Cc]ommand line:'
benign="$benign|kmemleak: (Kernel memory leak detector initialized|Automatic memory scanning thread (started|ended))"
kernel_log() {
	# After a timeout, stop at our own SysRq dump: it is full of traces.
	if [ "$timed_out" = 1 ]; then
		sed '/sysrq: /,$d' "$console"
	else
		cat "$console"
	fi
	cat "$dmesg"
}
dirty=
if [ -z "$panic" ]; then
	dirty=$(kernel_log | tr -d '\r' | grep -E -- "$bad" | grep -Ev -- "$benign" |
		awk '!seen[$0]++')
fi
if [ -n "$dirty" ]; then
	echo "vm-run: kernel log is not clean:" >&2
	printf '%s\n' "$dirty" | head -n 40 | sed 's/^/vm-run:   /' >&2
	n=$(printf '%s\n' "$dirty" | wc -l)
	[ "$n" -gt 40 ] && echo "vm-run:   ... $((n - 40)) more" >&2
	fail 95 "kernel log is not clean (see $BUILD/vm/console.log and $BUILD/vm/dmesg.log)"
fi

if [ -n "$exit_rc" ] && [ "$exit_rc" != 0 ] && [ "$interactive" = 0 ]; then
	echo "vm-run: command exited with status $exit_rc" >&2
	if [ "$status" = 0 ]; then
		status=$exit_rc
		[ "$status" -ge 90 ] && status=1
	fi
fi

keep_logs
exit "$status"
