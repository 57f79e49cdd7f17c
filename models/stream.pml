/*
 * SPDX-License-Identifier: GPL-2.0
 *
 * stream.pml: the stream claim of a mapped byte stream (docs/fast-path.md,
 * "Byte streams"), on the slot protocol of ring.pml: writers claim, fill
 * and publish slots as message senders do; readers take bytes from the
 * slot at the head, which they claim (FULL to READING) WITHOUT moving the
 * head, and either hand back as FULL of the same lap with the offset of
 * the bytes read so far stored in the slot, or, read to its end, retire
 * (EMPTY for the next lap) and only then help the head on. A read that
 * goes on past the end of a write first claims the next slot (FULL of its
 * lap to READING), then retires the one it finished: the head stops at
 * the slot it holds. A reader that finds the head slot READING waits for
 * it; it never helps the head past it. Endpoints may die holding a slot
 * (a reader: one or two); the repair turns a dead writer's
 * WRITING slot into a tombstone (which readers retire and skip) and gives
 * a dead reader's READING slot back as FULL with the offset as stored,
 * without touching the head.
 *
 * Checked:
 * - every byte of every published write is taken at most once, and, if
 *   a reader survives to drain the stream, exactly once;
 * - bytes are taken in stream order: the position and offset of each take
 *   are exactly where the last one ended (a finished slot's successor,
 *   at offset 0), so no byte is skipped, repeated or reordered, across
 *   readers, partial reads and deaths; and so each writer's bytes come
 *   out contiguous and in order;
 * - a read is one range of the stream: a take that goes on with the same
 *   read follows the same reader's last take, no other reader's;
 * - no invalid end state (deadlock: a reader waiting for a READING head
 *   that nobody will hand back);
 * - at the end: claimed = published + tombstoned; the head = positions
 *   retired; the tail = positions claimed.
 *
 * A take is modelled as the store of the new offset (or the retire): a
 * reader's copy before it is private (the mapper's own memory, or the
 * kernel's bounce buffer), and a reader that dies before the store took
 * nothing as far as the stream is concerned: the bytes come out again.
 * Bytes a reader stored and then died with are its own (taken once).
 *
 * Parameters (-D on the spin command line):
 *   C slots, NP writers, NC readers, K writes per writer, L bytes per write
 *   DIE_P  writer 1 may die at any step while it holds a slot
 *   DIE_C  reader 1 may die at any step while it holds a slot
 * Broken variants (each must fail):
 *   HELP_READING  a reader helps the head past a READING slot, as the
 *                 message protocol does (takes out of order)
 *   REPAIR_FREES  the repair frees a dead reader's READING slot, as for
 *                 messages (loses the rest of its bytes)
 *   NO_HOLD_NEXT  a read goes on by claiming the head again after its
 *                 retire (another reader can take bytes in between)
 */

#ifndef C
#define C	2
#endif
#ifndef NP
#define NP	2
#endif
#ifndef NC
#define NC	2
#endif
#ifndef K
#define K	2
#endif
#ifndef L
#define L	2
#endif

#define EMPTY	0
#define WRITING	1
#define FULL	2
#define READING	3
#define NONE	0

typedef slot_t {
	byte lap;	/* the state word: lap, phase, owner */
	byte ph;
	byte own;
	byte val;	/* the write: writer * K + sequence */
	byte off;	/* bytes already taken (flags above the tombstone bit) */
	bit tomb;
};

slot_t slot[C];
byte tail;
byte head;
byte sgone;
byte rgone;

byte claims;
byte published;
byte tombs;
byte retired;
byte unsent;
bit survivor;

byte taken[NP * K];	/* per write: bytes taken */
byte gpos;		/* where the next take must start: position ... */
byte goff;		/* ... and offset */
byte last;		/* the reader that took last */

bit may_die_p = 1;
bit may_die_c = 1;

#define I	(pos % C)
#define LAP	(pos / C)
#define SAME	(slot[I].lap == sl && slot[I].ph == sp && slot[I].own == so)
#define HELP(cur) if :: cur == pos -> cur = pos + 1 :: else fi

proctype reaper(byte who; bit is_producer)
{
	byte r, at, pos;
	bit made;

	atomic {
		r = 0;
		do
		:: r < C ->
			if
			:: slot[r].own == who && slot[r].ph == WRITING ->
				slot[r].val = 0;
				slot[r].off = 0;
				slot[r].tomb = 1;
				slot[r].ph = FULL;
				tombs++;
				made = 1;
				at = slot[r].lap * C + r
			:: slot[r].own == who && slot[r].ph == READING ->
#ifndef REPAIR_FREES
				/* back to FULL, same lap, offset as stored */
				slot[r].ph = FULL;
				slot[r].own = NONE
#else
				slot[r].lap++;
				slot[r].ph = EMPTY;
				slot[r].own = NONE;
				slot[r].off = 0;
				retired++
#endif
			:: else -> skip
			fi;
			r++
		:: else -> break
		od;
		r = 0
	};
	/* the tail help of ring.pml, for a dead writer's tombstone */
	pos = tail;
	atomic {
		if
		:: pos == at && made -> HELP(tail)
		:: else
		fi;
		pos = 0; made = 0; at = 0
	};
	/*
	 * A dead reader may have retired the head slot and died before it
	 * helped the head on: help it, as any reader would (a load of the
	 * head, a load of its slot, a CAS), only if its slot is retired for
	 * the head's lap.
	 */
	if
	:: !is_producer ->
		pos = head;
		atomic { if :: slot[I].lap > LAP -> HELP(head) :: else fi;
			 pos = 0 }
	:: else
	fi;
	if
	:: is_producer -> sgone++
	:: else -> rgone++
	fi
}

#ifdef DIE_P
#define P_DIE \
	if \
	:: atomic { me == 1 && may_die_p -> may_die_p = 0; \
		    unsent = unsent + K - k - 1; run reaper(me, 1) }; \
	   goto died \
	:: skip \
	fi
#else
#define P_DIE skip
#endif

#ifdef DIE_C
#define C_DIE \
	if \
	:: atomic { me == NP + 1 && may_die_c -> may_die_c = 0; \
		    run reaper(me, 0) }; \
	   goto died \
	:: skip \
	fi
#else
#define C_DIE skip
#endif

#define FORGET pos = 0; sl = 0; sp = 0; so = 0

/* The writers: ring.pml's producers, unchanged. */
proctype producer(byte me)
{
	byte k, pos, sl, sp, so;

	do
	:: k == K -> break
	:: else ->
		if
		:: rgone == NC -> unsent = unsent + K - k; break
		:: else
		fi;
		pos = tail;
		d_step { sl = slot[I].lap; sp = slot[I].ph; so = slot[I].own };
		if
		:: atomic { sl == LAP && sp == EMPTY && SAME ->
			slot[I].ph = WRITING; slot[I].own = me; claims++ } ->
			P_DIE;
			atomic { HELP(tail) };
			P_DIE;
			atomic {
				slot[I].val = (me - 1) * K + k;
				slot[I].off = 0;
				slot[I].tomb = 0;
				slot[I].ph = FULL;
				published++;
				k++;
				FORGET
			}
		:: atomic { sl == LAP && sp == EMPTY && !SAME -> FORGET }
		:: atomic { (sl > LAP || (sl == LAP && sp != EMPTY)) ->
			HELP(tail); FORGET }
		:: atomic { sl < LAP &&
			    (tail != pos || !SAME || rgone == NC) -> FORGET }
		fi
	od;
	sgone++;
died:
	skip
}

/*
 * Take bytes [off, off + n) of the write in slot I at position pos: they
 * must be where the last take ended, and never taken before; and a take
 * that goes on with the same read (cont) follows one of this reader's
 * own: no other reader took bytes in between.
 */
#define TAKE(n) \
	assert(gpos == pos && goff == slot[I].off); \
	assert(taken[slot[I].val] == slot[I].off); \
	assert(!cont || last == me); \
	last = me; \
	taken[slot[I].val] = slot[I].off + n; \
	goff = slot[I].off + n

#define NI	((pos + 1) % C)
#define NLAP	((pos + 1) / C)

proctype consumer(byte me)
{
	byte pos, sl, sp, so, n;
	bit nos, cont, nxt;

	do
	:: nos = (sgone == NP);
		pos = head;
		d_step { sl = slot[I].lap; sp = slot[I].ph; so = slot[I].own };
		if
		:: atomic { sl == LAP && sp == FULL && SAME ->
			/* the stream claim: the head stays */
			slot[I].ph = READING; slot[I].own = me } ->
held:
			C_DIE;
			/*
			 * Copy n of the bytes left (private): 1, or all of
			 * them (a tombstone has none). The offset is ours
			 * while READING.
			 */
			d_step {
				n = (slot[I].tomb -> 0 : L - slot[I].off);
				assert(slot[I].tomb || (n > 0 && n <= L))
			};
			if
			:: n > 1 -> n = 1	/* a partial read */
			:: true			/* to the end */
			fi;
			C_DIE;
			if
			:: !slot[I].tomb && slot[I].off + n < L ->
				/* the rest handed back: the read ends */
				d_step {
					TAKE(n);
					slot[I].off = slot[I].off + n;
					slot[I].ph = FULL;
					slot[I].own = NONE;
					n = 0; cont = 0
				}
			:: else ->
				/*
				 * Read to its end (a tombstone: skipped). A
				 * read that wants more holds the next write
				 * (FULL of its lap: CAS to READING) before it
				 * retires this one.
				 */
#ifndef NO_HOLD_NEXT
				if
				:: atomic { slot[NI].lap == NLAP &&
					    slot[NI].ph == FULL ->
					slot[NI].ph = READING;
					slot[NI].own = me; nxt = 1 }
				:: nxt = 0	/* not published, or enough */
				fi;
				C_DIE;
#endif
				d_step {
					if
					:: slot[I].tomb ->
						assert(gpos == pos && goff == 0);
						assert(!cont || last == me);
						last = me
					:: else -> TAKE(n)
					fi;
					gpos = pos + 1;
					goff = 0;
					slot[I].off = 0;
					slot[I].tomb = 0;
					slot[I].lap = LAP + 1;
					slot[I].ph = EMPTY;
					slot[I].own = NONE;
					retired++;
					n = 0
				};
#ifdef NO_HOLD_NEXT
				/* wants more: goes on at the head */
				if
				:: cont = 1
				:: cont = 0
				fi;
#endif
				skip
			fi;
			C_DIE;
			/* after the retire (or hand-back): help the head on */
			atomic { if :: slot[I].lap > LAP -> HELP(head) :: else fi };
#ifndef NO_HOLD_NEXT
			if
			:: nxt -> atomic { pos = pos + 1; nxt = 0; cont = 1 };
				goto held
			:: else
			fi;
			atomic { FORGET; nos = 0; cont = 0 }
#else
			/* the broken variant: go on at the head, unheld */
			atomic { FORGET; nos = 0 }
#endif
		:: atomic { sl == LAP && sp == FULL && !SAME ->
			FORGET; nos = 0; cont = 0 }
		:: atomic { sl > LAP ->
			/* retired for this lap: stale head, help it */
			HELP(head); FORGET; nos = 0 }
#ifdef HELP_READING
		:: atomic { sl == LAP && sp == READING ->
			HELP(head); FORGET; nos = 0; cont = 0 }
#else
		:: atomic { sl == LAP && sp == READING &&
			    (head != pos || !SAME) -> FORGET; nos = 0; cont = 0 }
			/* another reader is in it: wait for a change */
#endif
		:: atomic { (sl < LAP ||
			     (sl == LAP && (sp == EMPTY || sp == WRITING))) &&
			    nos -> FORGET }; break
		:: atomic { (sl < LAP ||
			     (sl == LAP && (sp == EMPTY || sp == WRITING))) &&
			    !nos && (head != pos || !SAME || sgone == NP) ->
			FORGET; cont = 0 }
		fi
	od;
	survivor = 1;
	rgone++;
died:
	skip
}

init
{
	byte i;

	atomic {
		i = 1;
		do
		:: i <= NP -> run producer(i); i++
		:: else -> break
		od;
		do
		:: i <= NP + NC -> run consumer(i); i++
		:: else -> break
		od
	};
	_nr_pr == 1;
	assert(claims == published + tombs);
	assert(published + unsent + tombs == NP * K);
	assert(tail == claims);
	assert(head == retired);
	d_step {
		i = 0;
		do
		:: i < NP * K ->
			/* all of a published write taken, if drained */
			assert(!survivor || taken[i] == 0 || taken[i] == L);
			i++
		:: else -> break
		od
	};
	assert(!survivor || head == tail);
	assert(!survivor || retired == claims)
}
