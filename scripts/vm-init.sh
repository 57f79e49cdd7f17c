#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# PID 1 of the chan test VM: scripts/vm-run.sh copies it into the initramfs
# as /init, beside /etc/chan-vm.conf (VM_INTERACTIVE, VM_MODULE, VM_MODNAME)
# and /etc/chan-cmd (the command line).  Markers on ttyS1 (CHAN-VM-*) tell
# the host how the run ended; ttyS2 receives dmesg and kmemleak's report.
. /etc/chan-vm.conf
export PATH=/opt/chan/bin:/opt/chan/selftests:/bin:/sbin:/usr/bin:/usr/sbin
export HOME=/root CHAN_KO=/lib/modules/chan.ko

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm /dev/mqueue
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t mqueue mqueue /dev/mqueue
mount -t tmpfs tmpfs /tmp
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
exec </dev/console >/dev/console 2>&1
hostname chan-vm

# No \r added to the test output; the setting outlives this open.
stty -F /dev/ttyS1 -opost
exec 3>/dev/ttyS1
# The kernel booted: vm-run.sh's boot watchdog stands down.
echo "CHAN-VM-BOOTED 0" >&3

finish() {
	# Closing the last fd of a serial port waits until it has drained, so
	# the host sees every byte before the power goes.
	exec 3>&-
	dmesg >/dev/ttyS2
	poweroff -f
}

# On a debug kernel: no automatic scans, forget leaks from boot, scan at
# the end.
kmemleak=/sys/kernel/debug/kmemleak
if [ -w $kmemleak ]; then
	echo scan=off >$kmemleak
	echo clear >$kmemleak
fi

if [ -n "$VM_MODULE" ]; then
	insmod "$VM_MODULE" >&3 2>&3
	rc=$?
	if [ $rc -ne 0 ]; then
		echo "CHAN-VM-INSMOD-FAILED $rc" >&3
		finish
	fi
fi

if [ "$VM_INTERACTIVE" = 1 ]; then
	setsid cttyhack sh
	rc=$?
else
	sh -c "$(cat /etc/chan-cmd)" </dev/null >&3 2>&3 3>&-
	rc=$?
fi
echo "CHAN-VM-EXIT $rc" >&3

# Leftover processes would keep the module busy.
kill -9 -1 2>/dev/null
if [ -n "$VM_MODNAME" ] && [ -d "/sys/module/$VM_MODNAME" ]; then
	i=0
	until rmmod "$VM_MODNAME" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -ge 20 ]; then
			rmmod "$VM_MODNAME" >&3 2>&3
			echo "CHAN-VM-RMMOD-FAILED $?" >&3
			break
		fi
		usleep 100000
	done
fi

if [ -w $kmemleak ]; then
	# Only objects older than 5 s are reported.
	sleep 6
	echo scan >$kmemleak
	cat $kmemleak >/dev/ttyS2
fi
finish
