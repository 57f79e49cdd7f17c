#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run Debian's trinity system call fuzzer inside the test VM against
# /dev/chan, for a bounded number of operations and a bounded time, as an
# unprivileged user, with a fixed seed; then let scripts/vm-run.sh unload the
# module and check the kernel log.
#
# usage: scripts/vm-trinity.sh [--seed N] [--ops N] [--time SECONDS]
#
# trinity is dynamically linked and the VM has no libc, so it travels with
# its shared libraries and loader in a private build directory
# ($TRINITY_BUILD, default build/trinity-vm) whose bin/ becomes
# /opt/chan/bin in the guest; a wrapper runs it through the copied loader.
# The binary and libraries are not executable there (vm-run.sh warns about
# dynamically linked executables); only the loader and the wrapper are.
# VM logs of the last run: $TRINITY_BUILD/vm/.
#
# Exit status: vm-run.sh's (0 only if trinity ran and exited cleanly, the
# module unloaded and the kernel log is clean); 90 if trinity cannot be
# installed or staged.

set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
seed=${TRINITY_SEED:-20240601}
ops=${TRINITY_OPS:-20000}
tsecs=${TRINITY_TIME:-120}
while [ $# -gt 0 ]; do
	case $1 in
	--seed) seed=$2; shift ;;
	--ops) ops=$2; shift ;;
	--time) tsecs=$2; shift ;;
	-h|--help) sed -n 's/^# \{0,1\}//; 9p' "$0"; exit 0 ;;
	*) echo "vm-trinity: unknown argument: $1" >&2; exit 90 ;;
	esac
	shift
done
for n in "$seed" "$ops" "$tsecs"; do
	case $n in ''|*[!0-9]*) echo "vm-trinity: not a number: '$n'" >&2; exit 90 ;; esac
done

die() {
	echo "vm-trinity: $*" >&2
	exit 90
}

if ! command -v trinity >/dev/null 2>&1 && [ ! -x /usr/bin/trinity ]; then
	echo "vm-trinity: installing trinity" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q trinity >&2 ||
		die "cannot install trinity (apt-get install trinity)"
fi
trinity=$(command -v trinity || echo /usr/bin/trinity)
[ -f "$ROOT/chan.ko" ] || die "$ROOT/chan.ko not found: run 'make module' first"

# --- stage trinity, its libraries and loader ---------------------------------

priv=${TRINITY_BUILD:-$ROOT/build/trinity-vm}
rm -rf "${priv:?}/bin"
tr=$priv/bin/trinity-root
mkdir -p "$tr/lib" "$priv/vm" || die "cannot create $priv"
cp "$trinity" "$tr/trinity" || die "cannot copy $trinity"
loader=
while read -r line; do
	# "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or
	# "/lib64/ld-linux-x86-64.so.2 (0x...)"
	case $line in
	*"=> /"*)
		lib=${line#*=> }
		lib=${lib%% (*}
		cp -L "$lib" "$tr/lib/" || die "cannot copy $lib"
		;;
	/*ld-linux*)
		loader=${line%% (*}
		;;
	esac
done < <(ldd "$trinity")
[ -n "$loader" ] || die "no loader in 'ldd $trinity'"
cp -L "$loader" "$tr/ld.so" || die "cannot copy $loader"
chmod 644 "$tr/trinity" "$tr/lib/"*
chmod 755 "$tr/ld.so"

cat >"$priv/bin/chan-trinity" <<EOF
#!/bin/sh
# Written by scripts/vm-trinity.sh: run trinity in the chan test VM.
seed=$seed ops=$ops tsecs=$tsecs
EOF
cat >>"$priv/bin/chan-trinity" <<'EOF'
d=/opt/chan/bin/trinity-root
[ -c /dev/chan ] || { echo "chan-trinity: no /dev/chan"; exit 1; }
# An unprivileged user for trinity (the VM knows only root).
grep -q '^nobody:' /etc/passwd ||
	echo 'nobody:x:65534:65534:nobody:/tmp/trinity:/bin/sh' >>/etc/passwd
grep -q '^nogroup:' /etc/group || echo 'nogroup:x:65534:' >>/etc/group
mkdir -p /tmp/trinity && chown 65534:65534 /tmp/trinity
ls -l /dev/chan

# The ops syscalls trinity may call, and /dev/chan as its only file.
cmd="cd /tmp/trinity && exec $d/ld.so --library-path $d/lib $d/trinity \
 -q -l off --stats -s $seed -N $ops -C 2 -V /dev/chan \
 --disable-fds=sockets,pipes,perf,epoll,eventfd,pseudo,timerfd,testfile,memfd,drm \
 -c ioctl -c read -c write -c poll -c close -c openat"
echo "chan-trinity: uid $(id -u nobody 2>/dev/null): trinity -s $seed -N $ops (limit ${tsecs}s)"
start=$(date +%s)
# The pipe would hide trinity's status: it goes through a file.
{
	# SIGINT first: trinity then stops its children and prints --stats.
	timeout -s INT -k 30 "$tsecs" su -s /bin/sh nobody -c "$cmd" 2>&1
	echo $? >/tmp/trinity-rc
} | tail -n 40
rc=$(cat /tmp/trinity-rc)
end=$(date +%s)
EOF
cat >>"$priv/bin/chan-trinity" <<'EOF'
echo "chan-trinity: trinity exited with status $rc after $((end - start)) s"
# Stragglers would keep the module busy; vm-run.sh kills them anyway.
pkill_trinity() {
	for p in /proc/[0-9]*; do
		[ "$(cat "$p/comm" 2>/dev/null)" = trinity ] ||
		[ "$(cat "$p/comm" 2>/dev/null)" = ld.so ] || continue
		kill -9 "${p#/proc/}" 2>/dev/null
	done
}
pkill_trinity
grep '^chan ' /proc/modules
if [ "$rc" = 0 ]; then
	exit 0
fi
# Stopped by the time limit (TCG is slow): a bounded run, not a failure.
if [ $((end - start)) -ge "$tsecs" ]; then
	echo "chan-trinity: stopped at the ${tsecs}s limit before $ops ops"
	exit 0
fi
exit 1
EOF
chmod 755 "$priv/bin/chan-trinity"

# Boot, run, unload, check. --timeout leaves room for boot and shutdown.
BUILD=$priv "$ROOT/scripts/vm-run.sh" --timeout $((tsecs + 240)) -- chan-trinity
status=$?
echo "vm-trinity: vm-run.sh status $status (logs in $priv/vm/)" >&2
exit $status
