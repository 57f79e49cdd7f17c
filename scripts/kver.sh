#!/bin/sh
# The kernel version we build against and boot: the one Debian's
# linux-headers-amd64 metapackage points at (never the host's own kernel).
# `scripts/kver.sh rt` gives the PREEMPT_RT flavour's (linux-headers-rt-amd64);
# `scripts/kver.sh 6.12` the newest 6.12 kernel of Debian 12 installed with
# its headers (linux-image-6.12.*+deb12-amd64-unsigned, see scripts/deps.sh),
# or nothing.
if [ "${1:-}" = 6.12 ]; then
	for d in $(ls -d /usr/src/linux-headers-6.12.*+deb12-amd64 2>/dev/null |
		sort -rV); do
		v=${d#/usr/src/linux-headers-}
		if [ -f "/boot/vmlinuz-$v" ]; then
			echo "$v"
			exit 0
		fi
	done
	exit 0
fi
meta=linux-headers-amd64
glob='/usr/src/linux-headers-*[0-9]-amd64'
if [ "${1:-}" = rt ]; then
	meta=linux-headers-rt-amd64
	glob='/usr/src/linux-headers-*-rt-amd64'
fi
v=$(dpkg-query -W -f='${Depends}' "$meta" 2>/dev/null |
	sed -n 's/.*linux-headers-\([0-9][^ ,]*-amd64\).*/\1/p')
if [ -z "$v" ]; then
	# shellcheck disable=SC2086 # the glob is meant to expand
	v=$(ls -d $glob 2>/dev/null | sort -V | tail -n 1 |
		sed 's|/usr/src/linux-headers-||')
fi
echo "$v"
