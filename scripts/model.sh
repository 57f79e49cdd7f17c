#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# `make model`: check the protocol models in models/ with spin (Debian
# package spin). Each configuration is a model and its -D flags: spin -a
# generates the verifier in $BUILD/model/<name>/, gcc builds it, and it
# searches the whole state space (exhaustive: -DSAFETY -DNOREDUCE, no
# compression, no bitstate). A configuration marked "pass" must end with
# 0 errors; one marked "fail" is a broken variant that must be caught (it
# shows that the check can fail) and leaves its trail for `spin -t`;
# "fail=TEXT" also requires TEXT in pan's first error line (which check
# caught it: the lost wake-up, not some other slip of the model).
# Prints one line per configuration (states, time, memory) and a summary;
# exits non-zero if any configuration did not do what it must.
# models/README.md says what each configuration checks. MODELS='spsc2-*'
# (a shell pattern) checks only the configurations it matches.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
OUT=$BUILD/model
# pan gives up beyond this many MiB (it is told at compile time)
MEMLIM=${MODEL_MEMLIM:-8192}

command -v spin >/dev/null 2>&1 || {
	echo "model: spin not found (apt-get install spin)" >&2
	exit 1
}

# name model expect flags...
CONFIGS="
ring-2p2c-deaths ring pass -DNP=2 -DNC=2 -DK=2 -DC=2 -DDIE_P -DDIE_C
ring-2p1c-deaths ring pass -DNP=2 -DNC=1 -DK=3 -DC=2 -DDIE_P -DDIE_C
ring-1p2c-deaths ring pass -DNP=1 -DNC=2 -DK=4 -DC=2 -DDIE_P -DDIE_C
ring-no-repair-help ring fail=(tail==claims) -DNP=2 -DNC=2 -DK=2 -DC=2 -DDIE_P -DDIE_C -DNO_REPAIR_HELP
spsc-deaths spsc pass -DK=4 -DC=2 -DDIE_P -DDIE_C
spsc-deaths-3slots spsc pass -DK=5 -DC=3 -DDIE_P -DDIE_C
spsc-no-settle spsc fail=(tail==published) -DK=3 -DC=2 -DDIE_P -DDIE_C -DNO_SETTLE
spsc2-asym-deaths spsc2 pass -DHS_ASYM -DK=4 -DC=2 -DDIE_P -DDIE_C
spsc2-asym-1slot spsc2 pass -DHS_ASYM -DK=3 -DC=1 -DDIE_P -DDIE_C
spsc2-fence-deaths spsc2 pass -DHS_FENCE -DK=3 -DC=2 -DDIE_P -DDIE_C
spsc2-lazy spsc2 fail=invalid -DHS_LAZY -DK=3 -DC=2
spsc2-none spsc2 fail=invalid -DHS_NONE -DK=3 -DC=2
spsc2-tail-first spsc2 fail=next_ret -DHS_ASYM -DK=3 -DC=2 -DTAIL_FIRST
spsc2-asym-poll spsc2 pass -DHS_ASYM -DPOLL_C -DK=4 -DC=2 -DDIE_P -DDIE_C
spsc2-none-poll spsc2 fail=invalid -DHS_NONE -DPOLL_C -DK=3 -DC=2
stream-1p2c-deaths stream pass -DNP=1 -DNC=2 -DK=3 -DC=2 -DDIE_P -DDIE_C
stream-2p1c-deaths stream pass -DNP=2 -DNC=1 -DK=2 -DC=2 -DDIE_P -DDIE_C
stream-1p3c-die-c stream pass -DNP=1 -DNC=3 -DK=2 -DC=2 -DDIE_C
stream-help-reading stream fail=(head==retired) -DNP=1 -DNC=2 -DK=2 -DC=2 -DHELP_READING
stream-repair-frees stream fail=taken[i] -DNP=1 -DNC=2 -DK=2 -DC=2 -DDIE_C -DREPAIR_FREES
stream-no-hold-next stream fail=(last==me) -DNP=1 -DNC=2 -DK=3 -DC=2 -DNO_HOLD_NEXT
wake-fastsend wake pass -DUSEND=1 -DKRECV=2 -DK=3 -DC=2 -DTIMEOUTS=1
wake-fastrecv wake pass -DUSEND=0 -DURECV=1 -DKSEND=2 -DKRECV=0 -DK=2 -DC=2 -DTIMEOUTS=1
wake-fastrecv-1slot wake pass -DUSEND=0 -DURECV=1 -DKSEND=2 -DKRECV=0 -DK=2 -DC=1 -DTIMEOUTS=1
wake-fastsend-die wake pass -DUSEND=1 -DKRECV=2 -DK=3 -DC=2 -DTIMEOUTS=1 -DDIE
wake-fastrecv-die wake pass -DUSEND=0 -DURECV=1 -DKSEND=2 -DKRECV=0 -DK=2 -DC=2 -DTIMEOUTS=1 -DDIE
wake-fastsend-mirror wake fail=&&recv_ok) -DUSEND=1 -DKRECV=2 -DK=3 -DC=2 -DTIMEOUTS=0 -DMIRROR
wake-fastrecv-mirror wake fail=&&send_ok) -DUSEND=0 -DURECV=1 -DKSEND=2 -DKRECV=0 -DK=2 -DC=2 -DTIMEOUTS=0 -DMIRROR
wake-no-passon wake fail=&&recv_ok) -DUSEND=1 -DKRECV=2 -DK=3 -DC=2 -DTIMEOUTS=0 -DNO_PASSON
wake-repair-nowake wake fail=&&recv_ok) -DUSEND=1 -DKRECV=2 -DK=3 -DC=2 -DTIMEOUTS=0 -DDIE -DREPAIR_NOWAKE
wake-late-recount wake fail=&&recv_ok) -DUSEND=1 -DKRECV=2 -DK=3 -DC=2 -DTIMEOUTS=0 -DLATE_RECOUNT
wake-no-recount wake fail=&&recv_ok) -DUSEND=1 -DKRECV=2 -DK=3 -DC=2 -DTIMEOUTS=0 -DNO_RECOUNT
bcast-lossless-1slot bcast pass -DNR=2 -DK=3 -DC=1
bcast-lossless-2slot bcast pass -DNR=2 -DK=4 -DC=2
bcast-lossless-3rx bcast pass -DNR=3 -DK=3 -DC=1
bcast-gen-after bcast fail=invalid -DNR=2 -DK=3 -DC=1 -DGEN_AFTER
bcast-late-count bcast fail=invalid -DNR=2 -DK=3 -DC=1 -DLATE_COUNT
"

mkdir -p "$OUT" || exit 1
rm -f "$OUT/.results"
ok=0
bad=0
total_states=0
start=$(date +%s)

echo "$CONFIGS" | while read -r name model expect flags; do
	[ -n "$name" ] || continue
	# shellcheck disable=SC2254 # a pattern, on purpose
	case $name in ${MODELS:-*}) ;; *) continue ;; esac
	dir=$OUT/$name
	rm -rf "$dir"
	mkdir -p "$dir"
	cp "$ROOT/models/$model.pml" "$dir/" || exit 1
	log=$dir/pan.log
	t0=$(date +%s)
	# shellcheck disable=SC2086 # flags are words
	if ! (cd "$dir" && spin -a $flags "$model.pml" >spin.log 2>&1 &&
	      gcc -O2 -w -DSAFETY -DNOREDUCE -DMEMLIM="$MEMLIM" \
		  -o pan pan.c >gcc.log 2>&1); then
		echo "model: $name: BUILD FAILED (see $dir)"
		echo bad >>"$OUT/.results"
		continue
	fi
	(cd "$dir" && ./pan -m1000000 >"$log" 2>&1)
	t1=$(date +%s)
	errors=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' "$log" | tail -n 1)
	states=$(awk '/states, stored/ { print $1 }' "$log" | tail -n 1)
	mem=$(awk '/total actual memory usage/ { print $1 }' "$log" |
	      tail -n 1)
	incomplete=
	if grep -q "max search depth too small\|out of memory\|memory limit" \
		"$log"; then
		incomplete=1
	fi
	what="states=${states:-?} time=$((t1 - t0))s mem=${mem:-?}MB"
	if [ -z "$errors" ]; then
		result="FAILED (no result; see $log)"
		echo bad >>"$OUT/.results"
	elif [ "$expect" = pass ] && [ "$errors" = 0 ] && [ -z "$incomplete" ]
	then
		result="pass: 0 errors, as it must"
		echo "ok ${states:-0}" >>"$OUT/.results"
	elif [ "${expect%%=*}" = fail ] && [ "$errors" != 0 ] &&
	     ls "$dir"/*.trail >/dev/null 2>&1 &&
	     { [ "$expect" = fail ] ||
	       grep -m1 '^pan:1:' "$log" | grep -qF -- "${expect#fail=}"; }
	then
		result="fail: $errors error(s), as it must ($(grep -m1 \
			'^pan:1:' "$log" | cut -c1-60)...)"
		echo "ok ${states:-0}" >>"$OUT/.results"
	else
		result="FAILED: errors=$errors${incomplete:+, incomplete search}, expected $expect (see $log)"
		echo bad >>"$OUT/.results"
	fi
	echo "model: $name ($model.pml $flags): $what: $result"
done

end=$(date +%s)
ok=$(grep -c '^ok' "$OUT/.results" 2>/dev/null)
bad=$(grep -c '^bad' "$OUT/.results" 2>/dev/null)
total_states=$(awk '/^ok/ { s += $2 } END { print s + 0 }' "$OUT/.results")
rm -f "$OUT/.results"
echo "model: summary: $ok configurations as expected, $bad not;" \
	"$total_states states in all, $((end - start))s"
[ "$bad" = 0 ] && [ "$ok" -gt 0 ]
