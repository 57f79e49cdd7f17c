#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Check the man pages in man/: run from `make check-quick` ("man pages").
# Fails on any warning:
#
#  - every page is formatted with groff -ww (all warnings), for a terminal
#    and for the default device, and with man-db's `man --warnings=w -l`;
#    any output on stderr fails, as does a non-zero exit;
#  - `mandoc -T lint -W warning` must be silent too;
#  - a link page is exactly one line ".so manN/PAGE.N" whose target exists
#    in man/, is a full page of that section, and names the link in its
#    NAME section; every link is also resolved and formatted by man-db from
#    a manN/ tree, as an installed system would;
#  - a full page's .TH names the file (title and section);
#  - every symbol exported in userlib/libchan.map has a page man/SYMBOL.3
#    whose NAME section names it, so a new function without a page fails;
#  - every cross reference .BR chan...(N) names a page that exists.
#
# Usage: scripts/man-check.sh [MAN_DIR]   (default: man/ of the repository)
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
MAN=${1:-$ROOT/man}
MAP=$ROOT/userlib/libchan.map
BUILD=${BUILD:-$ROOT/build}
tree=$BUILD/man-check
err=$BUILD/man-check.err
fails=0

fail() {
	echo "man-check: $*" >&2
	fails=$((fails + 1))
}

# Run "$@"; fail if it exits non-zero or writes anything on stderr.
quiet() {
	what=$1
	shift
	if ! "$@" >/dev/null 2>"$err"; then
		fail "$what: failed: $*"
		sed 's/^/    /' "$err" >&2
	elif [ -s "$err" ]; then
		fail "$what: warnings: $*"
		sed 's/^/    /' "$err" >&2
	fi
}

# The .so target of a link page ("man3/chan_info.3"), or nothing.
so_target() {
	sed -n '1s/^\.so[[:space:]]\{1,\}\([^[:space:]]*\)[[:space:]]*$/\1/p' "$1"
}

# The words of a full page's NAME section, one per line.
name_words() {
	awk '/^\.SH[[:space:]]/ { in_name = ($2 == "NAME"); next }
	     in_name' "$1" |
		sed 's/\\-.*//; s/\\f[BIRP]//g' | tr ',' '\n' |
		sed 's/^[[:space:]]*//; s/[[:space:]]*$//' | grep -v '^$'
}

for tool in groff man mandoc; do
	command -v "$tool" >/dev/null ||
		{ echo "man-check: $tool is missing (make deps)" >&2; exit 1; }
done

[ -d "$MAN" ] || { echo "man-check: no directory $MAN" >&2; exit 1; }
pages=$(cd "$MAN" && ls -- *.[1-8] 2>/dev/null)
[ -n "$pages" ] || { echo "man-check: no pages in $MAN" >&2; exit 1; }

mkdir -p "$BUILD"
rm -rf "$tree"
for s in 1 2 3 4 5 6 7 8; do
	mkdir -p "$tree/man$s"
done

full=0
links=0
for p in $pages; do
	f=$MAN/$p
	sec=${p##*.}
	base=${p%.*}
	cp "$f" "$tree/man$sec/$p"
	if grep -q '^\.so' "$f"; then
		links=$((links + 1))
		t=$(so_target "$f")
		if [ "$(wc -l <"$f")" -ne 1 ] || [ -z "$t" ]; then
			fail "$p: a link page must be one line: .so manN/PAGE.N"
			continue
		fi
		tdir=${t%%/*}
		tp=${t#*/}
		case $tdir in
		man[1-8]) ;;
		*) fail "$p: .so $t: not of the form manN/PAGE.N"; continue ;;
		esac
		if [ "${tdir#man}" != "${tp##*.}" ]; then
			fail "$p: .so $t: directory and section differ"
		elif [ ! -f "$MAN/$tp" ]; then
			fail "$p: .so $t: no such page in $MAN"
		elif grep -q '^\.so' "$MAN/$tp"; then
			fail "$p: .so $t: the target is a link itself"
		elif ! name_words "$MAN/$tp" | grep -qxF "$base"; then
			fail "$p: $tp does not name $base in its NAME section"
		fi
		continue
	fi
	full=$((full + 1))
	th=$(sed -n 's/^\.TH[[:space:]]\{1,\}\([^[:space:]]*\)[[:space:]]\{1,\}\([^[:space:]]*\).*/\1 \2/p' "$f" | head -n 1)
	[ "$th" = "$base $sec" ] ||
		fail "$p: .TH says \"$th\", the file name \"$base $sec\""
	name_words "$f" | grep -qxF "$base" ||
		fail "$p: its NAME section does not name $base"
	quiet "$p (groff -ww -Tutf8)" groff -t -ww -man -z -Tutf8 "$f"
	quiet "$p (groff -ww)" groff -t -ww -man -z "$f"
	quiet "$p (man --warnings)" \
		env MANWIDTH=80 man --warnings=w -E UTF-8 -l "$f"
	# mandoc reports on stdout.
	# shellcheck disable=SC2016 # $1 is the inner shell's
	quiet "$p (mandoc -T lint)" \
		sh -c 'mandoc -T lint -W warning "$1" >&2' sh "$f"
done

# Every page, links included, as man-db finds and formats it when installed.
for p in $pages; do
	sec=${p##*.}
	base=${p%.*}
	if ! out=$(MANWIDTH=80 man -M "$tree" --warnings=w -E UTF-8 \
		   "$sec" "$base" 2>"$err"); then
		fail "$p: man -M $tree $sec $base failed"
		sed 's/^/    /' "$err" >&2
	elif [ -s "$err" ]; then
		fail "$p: man -M $tree $sec $base: warnings"
		sed 's/^/    /' "$err" >&2
	elif ! printf '%s\n' "$out" | grep -q "$base"; then
		fail "$p: man -M $tree $sec $base shows a page without $base"
	fi
done

# Every exported symbol has a page that names it.
[ -f "$MAP" ] || { echo "man-check: no $MAP" >&2; exit 1; }
syms=$(sed -n 's/^[[:space:]]*\([A-Za-z_][A-Za-z0-9_]*\)[[:space:]]*;[[:space:]]*$/\1/p' "$MAP")
[ -n "$syms" ] || fail "no symbols found in $MAP"
nsyms=0
for s in $syms; do
	nsyms=$((nsyms + 1))
	if [ ! -f "$MAN/$s.3" ]; then
		fail "$s (libchan.map): no page man/$s.3"
		continue
	fi
	page=$MAN/$s.3
	t=$(so_target "$page")
	[ -n "$t" ] && page=$MAN/${t#*/}
	if [ ! -f "$page" ] || ! name_words "$page" | grep -qxF "$s"; then
		fail "$s (libchan.map): ${page##*/} does not name it"
	fi
done

# Cross references to the project's own pages resolve.
# shellcheck disable=SC2086 # $pages is a list of plain file names
refs=$(cd "$MAN" && grep -h '^\.BR [Cc][Hh][Aa][Nn][A-Za-z0-9_]* ([1-8])' $pages |
	sed 's/^\.BR \([A-Za-z0-9_]*\) (\([1-8]\)).*/\1.\2/' | sort -u)
for r in $refs; do
	[ -f "$MAN/$r" ] || fail "a page refers to ${r%.*}(${r##*.}): no man/$r"
done

rm -f "$err"
if [ "$fails" -ne 0 ]; then
	echo "man-check: $fails problem(s)" >&2
	exit 1
fi
echo "man-check: $full pages, $links links, $nsyms symbols of libchan.map," \
	"no warnings"
