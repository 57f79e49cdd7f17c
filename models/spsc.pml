/*
 * SPDX-License-Identifier: GPL-2.0
 *
 * spsc.pml: the SPSC fast path of kmod/chan_spsc.h, with deaths and the
 * cursor settling of the repair (chan_map_settle(), kmod/map.c).
 *
 * One sender and one receiver, each running the SPSC variant: no CAS on
 * the slot, the state word stored FULL (EMPTY for the next lap) and then
 * the party's own cursor. Either may die at any step (-DDIE_P, -DDIE_C);
 * the kernel then settles the cursors (moves a cursor past slots already
 * claimed or retired for its lap, by CAS, at most C + 1 times), and a new
 * receiver (after a receiver's death) takes over with the same code, whose
 * fallback for an unexpected state is the common claim's help (CAS the
 * cursor on). One step is one shared access.
 *
 * Checked: every message the receivers return is returned once, in
 * order; every published message is returned, or was taken by a
 * receiver that died after its EMPTY store and before it returned (at
 * most one, counted received); nothing is returned that was not
 * published; at the end the cursors count exactly: tail = published,
 * head = taken. -DNO_SETTLE leaves the tail unsettled after a death (the
 * repair as it was): must fail (tail == published).
 */

#ifndef C
#define C 2		/* slots */
#endif
#ifndef K
#define K 3		/* messages the sender tries to send */
#endif

#define EMPTY	0
#define FULL	2

/* A slot's state: lap * 4 + phase. */
#define ST(lap, ph)	((lap) * 4 + (ph))
#define LAP(st)		((st) / 4)
#define PH(st)		((st) % 4)

byte state[C];
byte data[C];
byte tail, head;

bool pdead, pdone, cdead;
byte published;		/* FULL stores made */
byte taken;		/* EMPTY stores made by receivers */
byte returned;		/* messages receivers returned */
byte dead_taken;	/* taken by a dying receiver, never returned */
byte next_ret;		/* the value the next return must have */

#ifdef DIE_P
#define PMAYDIE	if :: pdead = true; goto pend :: skip fi
#else
#define PMAYDIE	skip
#endif
#ifdef DIE_C
#define CMAYDIE	if :: (!cdead && first) -> cdead = true; goto cend :: skip fi
#else
#define CMAYDIE	skip
#endif

/* chan_map_settle(): after a death, move cursors left behind. */
inline settle()
{
	byte sn, spos, sst;

#ifdef NO_SETTLE
	sn = C + 1;
#else
	sn = 0;
#endif
	do
	:: sn > C -> break
	:: else ->
		spos = tail;
		sst = state[spos % C];
		if
		:: LAP(sst) > spos / C || (LAP(sst) == spos / C && PH(sst) != EMPTY) ->
			atomic { if :: tail == spos -> tail = spos + 1 :: else fi }
		:: else -> break
		fi;
		sn++
	od;
	sn = 0;
	do
	:: sn > C -> break
	:: else ->
		spos = head;
		sst = state[spos % C];
		/* No READING on this path: only a later lap is behind. */
		if
		:: LAP(sst) > spos / C ->
			atomic { if :: head == spos -> head = spos + 1 :: else fi }
		:: else -> break
		fi;
		sn++
	od
}

active proctype sender()
{
	byte i, t, st;

	i = 0;
	do
	:: i == K -> break
	:: else ->
		t = tail;		/* own cursor */
		PMAYDIE;
		st = state[t % C];
		PMAYDIE;
		if
		:: st == ST(t / C, EMPTY) ->
			data[t % C] = i;
			PMAYDIE;
			atomic { state[t % C] = ST(t / C, FULL); published++ };
			PMAYDIE;
			tail = t + 1;
			i++
		:: LAP(st) < t / C ->
			/* Full: wait for the slot to change. */
			(state[t % C] != st)
		:: else ->
			/* Not expected: the common claim helps the cursor on. */
			atomic { if :: tail == t -> tail = t + 1 :: else fi }
		fi
	od;
	pdone = true;
	goto out;
pend:
	settle();
	pdone = true;
out:
	skip
}

/* A receiver; the first may die, the second takes over after it. */
proctype receiver(bool first)
{
	byte h, st, v;
	bool took;	/* between its EMPTY store and its return */

	do
	:: h = head;
		CMAYDIE;
		st = state[h % C];
		CMAYDIE;
		if
		:: st == ST(h / C, FULL) ->
			v = data[h % C];
			CMAYDIE;
			atomic {
				state[h % C] = ST(h / C + 1, EMPTY);
				taken++;
				took = true
			};
			CMAYDIE;
			head = h + 1;
			CMAYDIE;
			/* Returned to the caller: exactly the next one. */
			atomic {
				assert(v == next_ret);
				next_ret++;
				returned++;
				took = false
			}
		:: LAP(st) < h / C || (LAP(st) == h / C && PH(st) != FULL) ->
			/* Empty: wait for a message, or the end of the stream. */
			if
			:: (state[h % C] != st) -> skip
			:: (pdone && state[h % C] == st) -> break
			fi
		:: else ->
			atomic { if :: head == h -> head = h + 1 :: else fi }
		fi
	od;
	goto done;
cend:
	/* The repair of its mapping, then a new receiver. */
	settle();
	/* Taken and not returned: lost with its reader, counted received. */
	if
	:: took -> dead_taken = 1; next_ret++
	:: else -> skip
	fi;
	run receiver(false);
done:
	skip
}

init
{
	run receiver(true);
	/* The receivers have ended (the sender, created first, ends last). */
	(pdone && _nr_pr == 2);
	assert(returned + dead_taken == published);
	assert(taken == published);
	assert(tail == published);
	assert(head == taken);
#ifndef DIE_P
	assert(published == K);
#endif
}
