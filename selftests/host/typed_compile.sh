#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# CHAN_DECLARE_TYPED() must make a wrongly typed send a compile error. Each
# case is a small program compiled with -fsyntax-only; the bad cases must
# fail at the line of the bad call (not anywhere else), the good ones must
# compile warning-free. Prints TAP.
#
# Usage: typed_compile.sh SRCROOT WORKDIR

set -u
srcroot=$1
work=$2
cc=${HOSTCC:-gcc}
mkdir -p "$work"
n=0
failed=0

# The program every case starts from: it must compile as it is. $1 is an
# extra file-scope line.
prologue() {
	cat <<'C'
#include <libchan.h>

struct point { int x, y; };
struct other { int x, y; };
CHAN_DECLARE_TYPED(point_chan, struct point)
C
	printf '%s\n' "$1"
	cat <<'C'

int use(struct point_chan *c);
int use(struct point_chan *c)
{
	struct point p = { 1, 2 };
	struct other o = { 1, 2 };
	int ret = point_chan_send(c, p);

	(void)o;
	ret |= point_chan_try_send(c, (struct point){ 3, 4 });
	ret |= point_chan_recv(c, &p);
	ret |= point_chan_try_recv(c, &p);
C
}

epilogue() {
	printf '\treturn ret;\n}\n'
}

# check NAME EXPECT(pass|fail) [EXTRA-LINE-IN-FUNCTION [EXTRA-FILE-SCOPE-LINE]]
check() {
	local name=$1 expect=$2 line=${3:-} top=${4:-} src bad_line ok=0
	n=$((n + 1))
	src=$work/case$n.c
	{ prologue "$top"; [ -n "$line" ] && printf '\t%s\n' "$line"; epilogue; } >"$src"
	bad_line=$(grep -n -F -- "${line:-@@none@@}" "$src" | head -n 1 | cut -d: -f1)
	if "$cc" -std=c11 -Wall -Werror -fsyntax-only -I"$srcroot/userlib/include" \
		-I"$srcroot/uapi" "$src" >"$src.err" 2>&1; then
		[ "$expect" = pass ] && ok=1
	elif [ "$expect" = fail ] && grep -q "case$n.c:$bad_line:" "$src.err"; then
		ok=1
	fi
	if [ $ok = 1 ]; then
		echo "ok $n typed: $name"
	else
		echo "not ok $n typed: $name"
		sed 's/^/#   /' "$src.err"
		[ "$expect" = fail ] && ! [ -s "$src.err" ] &&
			echo "#   compiled, but must not: $line"
		failed=$((failed + 1))
	fi
}

echo "TAP version 13"
echo "1..7"
check "sending the declared struct type compiles" pass
check "a second typed channel in the same file compiles" pass \
	"{ struct other_chan oc = { NULL }; ret |= other_chan_send(&oc, o); }" \
	"CHAN_DECLARE_TYPED(other_chan, struct other)"
check "sending a different struct type does not compile" fail \
	"ret |= point_chan_send(c, o);"
check "sending an int does not compile" fail \
	"ret |= point_chan_send(c, 42);"
check "sending a pointer to the type does not compile" fail \
	"ret |= point_chan_send(c, &p);"
check "try_send of a different struct type does not compile" fail \
	"ret |= point_chan_try_send(c, o);"
check "receiving into a different struct type does not compile" fail \
	"ret |= point_chan_recv(c, &o);"
[ "$failed" = 0 ]
