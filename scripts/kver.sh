#!/bin/sh
# The kernel version we build against and boot: the one Debian's
# linux-headers-amd64 metapackage points at (never the host's own kernel).
v=$(dpkg-query -W -f='${Depends}' linux-headers-amd64 2>/dev/null |
	sed -n 's/.*linux-headers-\([0-9][^ ,]*-amd64\).*/\1/p')
if [ -z "$v" ]; then
	v=$(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -n 1 |
		sed 's|/usr/src/linux-headers-||')
fi
echo "$v"
