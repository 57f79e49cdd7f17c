/*
 * SPDX-License-Identifier: GPL-2.0
 *
 * ring.pml: the slot protocol of kmod/chan_ring.h, as the module and libchan
 * both run it, with endpoints that die while they hold a slot and the
 * kernel's repair (chan_ring_repair()) that runs some time later.
 *
 * Checked (models/README.md says how, and how big each run is):
 * - no message is delivered twice (nor delivered and lost);
 * - each consumer sees each producer's messages in the order sent;
 * - no deadlock: every end state is one where all parties are done;
 * - at the end, claimed = published + tombstoned, and
 *   published + tombstoned = delivered + skipped + lost with a dead reader
 *   + still queued (none if a consumer survived to drain the ring);
 * - the counters of chan_info: at the end the tail equals the positions
 *   claimed and the head the positions retired. A producer that dies
 *   between its claim and its help of the tail leaves the tail behind
 *   for good if no one sends after it (a consumer the head, likewise);
 *   the repair moves such a cursor on (chan_ring_repair_help()), and
 *   then this holds. -DNO_REPAIR_HELP leaves that help out, and must
 *   fail.
 *
 * One process step is one access to shared memory: a load of a cursor or
 * of a slot's state word, a compare-and-swap, a store. Every
 * compare-and-swap compares the whole state word (lap, phase, owner), as
 * the code's does. The model is sequentially consistent.
 *
 * Parameters (-D on the spin command line):
 *   C   slots (a power of two in the code; any count works here)
 *   NP  producers, NC consumers, K messages per producer
 *   DIE_P  producer 1 may die at any step while it holds a slot
 *   DIE_C  consumer 1 may die at any step while it holds a slot
 * Only party 1 of each side may die: the parties of a side are the same
 * code from the same start, so which of them dies does not matter.
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

#define EMPTY	0
#define WRITING	1
#define FULL	2
#define READING	3
#define NONE	0	/* CHAN_OWNER_NONE; tokens are 1..NP+NC */

typedef slot_t {
	byte lap;	/* the state word: lap, phase, owner */
	byte ph;
	byte own;
	byte val;	/* payload: producer * K + sequence */
	bit tomb;	/* flags & CHAN_SLOT_TOMBSTONE */
};

slot_t slot[C];
byte tail;
byte head;

/* chan_state: senders and receivers released (NO_SENDERS, NO_RECEIVERS) */
byte sgone;
byte rgone;

/* accounting */
byte claims;		/* successful claim CAS by producers */
byte published;		/* FULL stores by producers */
byte tombs;		/* WRITING slots the repair turned into tombstones */
byte delivered;		/* messages retired by a consumer after the copy */
byte skipped;		/* tombstones retired (by a consumer or the repair) */
byte reader_drops;	/* READING messages the repair freed */
byte retired;		/* positions whose slot went back to EMPTY */
byte unsent;		/* messages not sent: EPIPE, no receiver left */
bit survivor;		/* some consumer ended by draining, not by dying */

byte got[NP * K];	/* per message: times delivered */
bit lost[NP * K];	/* per message: lost with a dead reader */
byte seen[NC * NP];	/* per consumer and producer: next sequence expected */

bit may_die_p = 1;
bit may_die_c = 1;

#define I	(pos % C)
#define LAP	(pos / C)
/* the claim (and repair) compare-and-swap: the whole word as loaded */
#define SAME	(slot[I].lap == sl && slot[I].ph == sp && slot[I].own == so)

/* chan_ring_help(): move a cursor from pos to pos + 1 unless done */
#define HELP(cur) if :: cur == pos -> cur = pos + 1 :: else fi

/*
 * chan_ring_repair() for a dead token, then the endpoint's release
 * (chan_detach()), which always comes after: the mapping holds the file.
 * The repair walks the slots, each with one load and one CAS; a slot
 * owned by the dead token in WRITING or READING cannot change under it
 * (only its owner moves it), so the walk is one step here. It runs at any
 * time after the death.
 */
proctype reaper(byte who; bit is_producer)
{
	byte r, at, pos;
	bit made, freed;

	atomic {
		r = 0;
		do
		:: r < C ->
			if
			:: slot[r].own == who && slot[r].ph == WRITING ->
				slot[r].val = 0;
				slot[r].tomb = 1;
				slot[r].ph = FULL;
				tombs++;
				made = 1;
				at = slot[r].lap * C + r
			:: slot[r].own == who && slot[r].ph == READING ->
				if
				:: slot[r].tomb -> skipped++
				:: else ->
					reader_drops++;
					assert(got[slot[r].val] == 0 && !lost[slot[r].val]);
					lost[slot[r].val] = 1
				fi;
				freed = 1;
				at = slot[r].lap * C + r;
				slot[r].lap++;
				slot[r].ph = EMPTY;
				slot[r].own = NONE;
				retired++
			:: else -> skip
			fi;
			r++
		:: else -> break
		od;
		r = 0
	};
	/* a party dies holding one slot: exactly one repaired, at `at` */
	assert(made != freed);
#ifndef NO_REPAIR_HELP
	/*
	 * chan_ring_repair_help(), after the slot's CAS: the claimant may
	 * have died before it moved the cursor past its position. Load the
	 * cursor (tail for a tombstone, head for a freed slot); only if it
	 * is at exactly the repaired slot and lap, CAS it one on. The rest
	 * of the walk looks at slots that are not the dead token's (loads
	 * without effect), so doing it first changes nothing.
	 */
	pos = (made -> tail : head);
	atomic {
		if
		:: pos == at && made -> HELP(tail)
		:: pos == at && freed -> HELP(head)
		:: else
		fi;
		pos = 0; made = 0; freed = 0; at = 0
	};
#else
	d_step { made = 0; freed = 0; at = 0 };
#endif
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

/* forget what was loaded, so that states differ only by what matters */
#define FORGET pos = 0; sl = 0; sp = 0; so = 0

proctype producer(byte me)
{
	byte k, pos, sl, sp, so;

	do
	:: k == K -> break
	:: else ->
		/* libchan and the kernel read the state first: EPIPE */
		if
		:: rgone == NC -> unsent = unsent + K - k; break
		:: else
		fi;
		/* chan_ring_claim_send(): tail, then the slot's state */
		pos = tail;
		d_step { sl = slot[I].lap; sp = slot[I].ph; so = slot[I].own };
		/*
		 * The choice on what was loaded is local: it is made in the
		 * step of the shared access that follows (CAS, help).
		 */
		if
		:: atomic { sl == LAP && sp == EMPTY && SAME ->
			slot[I].ph = WRITING; slot[I].own = me; claims++ } ->
			P_DIE;
			atomic { HELP(tail) };
			P_DIE;
			/*
			 * Payload, len, flags = 0, then the release store of
			 * FULL. Nobody reads a WRITING slot's payload and the
			 * repair overwrites it, so a death between the copy
			 * and the store is the death above.
			 */
			atomic {
				slot[I].val = (me - 1) * K + k;
				slot[I].tomb = 0;
				slot[I].ph = FULL;
				published++;
				k++;
				FORGET
			}
		:: atomic { sl == LAP && sp == EMPTY && !SAME -> FORGET }
		:: atomic { (sl > LAP || (sl == LAP && sp != EMPTY)) ->
			/* claimed (or retired) for this lap: stale tail */
			HELP(tail); FORGET }
		:: atomic { sl < LAP &&
			    (tail != pos || !SAME || rgone == NC) -> FORGET }
			/*
			 * Full: the caller waits (in the kernel, or fails
			 * with EAGAIN and tries again) until something
			 * changes; wake.pml checks that it is woken.
			 */
		fi
	od;
	sgone++;
died:
	skip
}

proctype consumer(byte me)
{
	byte pos, sl, sp, so, c = me - NP - 1, p, q;
	bit nos;

	do
	:: /* the state, acquire, before the ring (chan_recv_empty()) */
		nos = (sgone == NP);
		pos = head;
		d_step { sl = slot[I].lap; sp = slot[I].ph; so = slot[I].own };
		if
		:: atomic { sl == LAP && sp == FULL && SAME ->
			slot[I].ph = READING; slot[I].own = me } ->
			C_DIE;
			atomic { HELP(head) };
			C_DIE;
			/*
			 * Copy out, then the release store of EMPTY for the
			 * next lap. The slot is READING and ours, so nobody
			 * changes it meanwhile, and a death between the copy
			 * and the retire loses the message with its reader,
			 * as the death above does.
			 */
			d_step {
				if
				:: slot[I].tomb -> skipped++
				:: else ->
					p = slot[I].val / K;
					q = slot[I].val % K;
					got[slot[I].val]++;
					assert(got[slot[I].val] == 1);
					assert(!lost[slot[I].val]);
					assert(seen[c * NP + p] <= q);
					seen[c * NP + p] = q + 1;
					delivered++;
					p = 0;
					q = 0
				fi;
				slot[I].lap = LAP + 1;
				slot[I].ph = EMPTY;
				slot[I].own = NONE;
				retired++;
				FORGET;
				nos = 0
			}
		:: atomic { sl == LAP && sp == FULL && !SAME -> FORGET; nos = 0 }
		:: atomic { ((sl == LAP && sp == READING) || sl > LAP) ->
			/* claimed or retired for this lap: stale head */
			HELP(head); FORGET; nos = 0 }
		:: atomic { (sl < LAP ||
			     (sl == LAP && (sp == EMPTY || sp == WRITING))) &&
			    nos -> FORGET }; break	/* EPIPE: drained, no sender */
		:: atomic { (sl < LAP ||
			     (sl == LAP && (sp == EMPTY || sp == WRITING))) &&
			    !nos && (head != pos || !SAME || sgone == NP) ->
			FORGET }
			/* empty: wait until something changes */
		fi
	od;
	survivor = 1;
	rgone++;
died:
	skip
}

/* the positions still FULL in the ring */
byte left;

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
	d_step {
		i = 0;
		do
		:: i < C -> left = left + (slot[i].ph == FULL); i++
		:: else -> break
		od
	};
	assert(claims == published + tombs);
	assert(published + tombs == delivered + skipped + reader_drops + left);
	assert(!survivor || left == 0);
	assert(published + unsent + tombs == NP * K);
	d_step {
		i = 0;
		do
		:: i < NP * K -> assert(got[i] + lost[i] <= 1); i++
		:: else -> break
		od
	};
	/* chan_info: sent = tail, received + dropped = head */
	assert(tail == claims);
	assert(head == delivered + skipped + reader_drops);
	assert(head == retired)
}
