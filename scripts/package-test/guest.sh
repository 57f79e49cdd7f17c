#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the Debian 12 guest of scripts/package-test.sh, as root, from
# the image's chan-pkgtest.service (systemd powers the guest off after it).
# The disk labelled pkgtest is mounted on /mnt/pkgtest and holds this
# script, the packages, hello.c and env (VERSION, V61, V612).  The kernel
# argument chan_pkgtest=1 or 2 picks the stage:
#
#   1  (Debian's 6.1 kernel) apt install the packages, DKMS builds, modprobe,
#      hello.c built and run by the user "tester" with pkg-config, a chanctl
#      session, man pages, tracepoints;
#   2  (Debian 12's 6.12 kernel, the reboot) the module was loaded at boot
#      through modules-load.d, hello and chanctl work on this kernel, then
#      apt remove --purge and nothing is left.
#
# Result lines ("ok - ...", "not ok - ...", "# ..." comments) go to ttyS1,
# which the host numbers; the commands' own output goes to ttyS2 (not to the
# console, ttyS0, where a getty's vhangup() would cut it off).

D=/mnt/pkgtest
exec 3>/dev/ttyS1 >/dev/ttyS2 2>&1
# shellcheck source=/dev/null
. "$D/env"
export DEBIAN_FRONTEND=noninteractive
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# check DESCRIPTION COMMAND...: one result line for the command's status.
# systemd-modules-load ran, succeeded, and chan was loaded by it: its
# journal says "Inserted module 'chan'", or, if its messages were lost to
# the journal (seen once under emulation), the unit succeeded with chan.conf
# in place and nothing else in this boot's log loaded the module. The
# journal is printed either way, for the record.
modules_load_ok() {
	j=$(journalctl -b -o cat -u systemd-modules-load.service)
	echo "$j"
	echo "$j" | grep -q "Inserted module 'chan'" && return 0
	[ "$(systemctl show -P Result systemd-modules-load.service)" = success ] &&
		[ "$(systemctl show -P ExecMainStatus systemd-modules-load.service)" = 0 ] &&
		grep -qx chan /usr/lib/modules-load.d/chan.conf &&
		! journalctl -b -o cat | grep -v systemd-modules-load |
			grep -q "modprobe.*chan"
}

check() {
	desc=$1
	shift
	echo "### pkgtest: $desc"
	if "$@"; then
		echo "ok - $desc" >&3
	else
		echo "not ok - $desc" >&3
	fi
}
skip() { echo "ok - $1 # SKIP $2" >&3; }
note() { echo "# $*" >&3; }
# As the unprivileged user, in its home directory, with a login shell.
asuser() { runuser -l tester -c "$1"; }
is() { [ "$1" = "$2" ] || { echo "got '$1', expected '$2'"; return 1; }; }
# (DKMS signs the module with its own key, which this kernel does not
# trust: "module verification failed ... tainting kernel" is expected.)
log_clean() { ! dmesg | grep -E 'BUG:|WARNING:|Oops|Call Trace|general protection'; }

# The chanctl session every stage runs, as tester.
chanctl_session() {
	check "chanctl create (as tester)" \
		sh -c "runuser -l tester -c 'chanctl create -n pkgtest -s 64 -c 8 -m 600' | grep -Eqx '[0-9]+'"
	check "chanctl ls lists it" sh -c "runuser -l tester -c 'chanctl ls' | grep -qw pkgtest"
	check "chanctl send two messages" asuser "chanctl send pkgtest hello world"
	check "chanctl recv gets them in order" \
		is "$(asuser 'chanctl recv pkgtest -c 2' | tr '\n' ' ')" "hello world "
	check "chanctl rm" asuser "chanctl rm pkgtest"
	check "chanctl ls no longer lists it" sh -c "! runuser -l tester -c 'chanctl ls' | grep -qw pkgtest"
}

# A man page resolves and renders, if the package that should ship it does.
man_page() { # man_page PACKAGE SECTION NAME
	if dpkg -L "$1" | grep -q "/man$2/$3\.$2"; then
		check "man $2 $3 renders" sh -c "MANPAGER=cat man $2 $3 2>&1 | grep -q ."
	else
		skip "man $2 $3" "$1 ships no $3($2): man/ had no such page when the packages were built"
	fi
}

stage=$(sed -n 's/.*chan_pkgtest=\([0-9]\).*/\1/p' /proc/cmdline)
case $stage in
1)
	check "booted Debian's $V61 kernel" is "$(uname -r)" "$V61"
	check "systemd is PID 1" is "$(cat /proc/1/comm)" systemd
	check "the module is not loaded before the install" sh -c '! grep -q "^chan " /proc/modules'
	mkdir -p /tmp/debs && cp "$D"/*.deb /tmp/debs/ && chmod 0755 /tmp/debs &&
		chmod 0644 /tmp/debs/*.deb
	t0=$(date +%s)
	check "apt install ./chan-dkms ./libchan1 ./libchan-dev ./chan-tools (no network)" \
		sh -c 'cd /tmp/debs && apt -q -o Dpkg::Use-Pty=0 install -y ./chan-dkms_*.deb ./libchan1_*.deb ./libchan-dev_*.deb ./chan-tools_*.deb'
	note "apt install, with the DKMS builds, took $(( $(date +%s) - t0 )) s"
	dkms status
	for v in "$V61" "$V612"; do
		check "dkms status: chan/$VERSION installed for $v" \
			sh -c "dkms status chan | grep -q '^chan/$VERSION, $v, x86_64: installed'"
		check "chan.ko of $v under /lib/modules/$v/updates/dkms" \
			sh -c "ls /lib/modules/$v/updates/dkms/chan.ko*"
	done
	check "modinfo chan: version $VERSION" is "$(modinfo -F version chan)" "$VERSION"
	check "/usr/lib/modules-load.d/chan.conf names chan" grep -qx chan /usr/lib/modules-load.d/chan.conf
	check "modprobe chan" modprobe chan
	udevadm settle
	check "/dev/chan is a character device of mode 0666" \
		sh -c '[ -c /dev/chan ] && [ "$(stat -c %a /dev/chan)" = 666 ]'
	dpkg -L chan-dkms libchan1 libchan-dev chan-tools >/var/tmp/chan-pkg-files
	check "pkg-config --modversion libchan is $VERSION" \
		is "$(asuser 'pkg-config --modversion libchan')" "$VERSION"
	check "tester compiles hello.c with \$(pkg-config --cflags --libs libchan)" \
		asuser "cp $D/hello.c . && cc -Wall -Wextra -Werror -o hello hello.c \$(pkg-config --cflags --libs libchan)"
	# (/lib is /usr/lib on Debian 12: ldd may name either.)
	check "hello is linked against libchan1's /usr/lib/x86_64-linux-gnu/libchan.so.1" \
		sh -c "runuser -l tester -c 'ldd ./hello' | tee /dev/stderr | grep -Eq '=> (/usr)?/lib/x86_64-linux-gnu/libchan.so.1 '"
	check "hello runs as tester: kernel path and fast path round trips" \
		is "$(asuser ./hello)" "hello: ok"
	check "chanctl is linked against libchan.so.1" \
		sh -c "ldd /usr/bin/chanctl | grep -q libchan.so.1"
	chanctl_session
	man_page chan-tools 8 chanctl
	man_page libchan-dev 3 chan_send
	man_page chan-dkms 7 chan
	# Tracepoints are another part of the work (TRACE_SYSTEM chan in
	# kmod/): checked as soon as the packaged source defines them.
	if grep -qs 'define TRACE_SYSTEM chan' /usr/src/chan-"$VERSION"/kmod/*.h; then
		check "trace-cmd list -e chan lists chan:chan_create" \
			sh -c 'trace-cmd list -e chan | grep -q "chan:chan_create"'
	else
		skip "trace-cmd list -e chan" "the packaged source defines no TRACE_SYSTEM chan yet"
	fi
	check "kernel log: no BUG, WARNING or Oops" log_clean
	note "stage 1 complete"
	;;
2)
	check "rebooted into Debian 12's $V612 kernel" is "$(uname -r)" "$V612"
	check "chan was loaded at boot" grep -q '^chan ' /proc/modules
	check "systemd-modules-load loaded it (modules-load.d)" modules_load_ok
	check "/sys/module/chan/version is $VERSION" is "$(cat /sys/module/chan/version)" "$VERSION"
	check "the loaded module is DKMS's build for $V612" \
		sh -c "modinfo -n chan | grep -q '^/lib/modules/$V612/updates/dkms/chan.ko'"
	check "hello runs as tester on $V612" is "$(asuser ./hello)" "hello: ok"
	chanctl_session
	check "modprobe -r chan" modprobe -r chan
	t0=$(date +%s)
	check "apt remove --purge chan-dkms libchan1 libchan-dev chan-tools" \
		apt -q -o Dpkg::Use-Pty=0 remove --purge -y chan-dkms libchan1 libchan-dev chan-tools
	note "apt remove --purge took $(( $(date +%s) - t0 )) s"
	for p in chan-dkms libchan1 libchan-dev chan-tools; do
		check "$p is gone from dpkg's database" \
			sh -c "! dpkg-query -W -f='\${db:Status-Abbrev}' $p 2>/dev/null | grep -q ."
	done
	check "no chan.ko under /lib/modules" is "$(find /lib/modules -name 'chan.ko*')" ""
	check "no chan.ko in any modules.dep" sh -c '! grep -s chan.ko /lib/modules/*/modules.dep'
	check "nothing under /usr/src/chan-*" sh -c '! ls -d /usr/src/chan-* 2>/dev/null'
	check "/var/lib/dkms/chan is gone" test ! -e /var/lib/dkms/chan
	# Every path the packages had: files and links must be gone; a
	# directory may stay only if another package still owns it.
	left=$(while read -r f; do
		if [ "$f" = /. ]; then
			continue
		elif [ -d "$f" ] && [ ! -L "$f" ]; then
			dpkg -S "$f" >/dev/null 2>&1 || echo "$f"
		elif [ -e "$f" ] || [ -L "$f" ]; then
			echo "$f"
		fi
	done </var/tmp/chan-pkg-files)
	check "no file or directory of dpkg -L left" is "$left" ""
	check "the module is not loaded" sh -c '! grep -q "^chan " /proc/modules'
	check "kernel log: no BUG, WARNING or Oops" log_clean
	note "stage 2 complete"
	;;
*)
	echo "not ok - guest.sh: no chan_pkgtest=1|2 on the kernel command line" >&3
	;;
esac
sync
