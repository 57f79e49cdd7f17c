/*
 * SPDX-License-Identifier: GPL-2.0
 *
 * wake.pml: the wake-up handshake between the fast path (libchan, in user
 * space, on the mapped ring) and the kernel's waiters (kmod/io.c,
 * chan_xfer()), on the ring itself: the same slots, cursors and
 * claim/publish/retire steps as ring.pml and kmod/chan_ring.h.
 *
 * Parties (each a process; which ones run depends on the configuration):
 * - a fast-path sender: claims with its own token, publishes, (full
 *   barrier,) reads recv_waiters and only if it is not zero asks the kernel
 *   to wake a receiver (CHAN_IOC_WAKE); if the ring is full it takes the
 *   kernel path, and may sleep there;
 * - a fast-path receiver: claims, copies, retires, (full barrier,) reads
 *   send_waiters and wakes a sender if it is not zero; a tombstone is
 *   retired and counted, and it tries again; an empty ring sends it down
 *   the kernel path;
 * - kernel senders and receivers: chan_xfer(): try; on failure
 *   chan_waiter_prepare() (under the queue's lock: count itself in the
 *   shared word with one atomic add unless it is counted already, queue
 *   exclusively, set_current_state(), a full barrier), try again, sleep;
 *   when woken and the try fails again, the same: count, queue, barrier,
 *   try, sleep. On the way out (a message, or a timeout or signal)
 *   chan_waiter_finish() (leave the queue, and the count if still in it),
 *   and pass a wake-up on if the ring can still make progress. Each of
 *   their successful tries wakes the other side through the wait queue
 *   (wq_has_sleeper(), then wake_up() of one exclusive waiter);
 * - the count is of waiters not yet woken: a wake-up takes its waiter
 *   off the queue and off the count in one step under the queue's lock
 *   (chan_waiter_wake());
 * - with -DDIE, the fast-path parties may die while holding a slot; the
 *   repair (kmod/map.c, chan_ring_repair()) runs any time later, moves on
 *   a cursor the dead claimant left at its slot (chan_ring_repair_help())
 *   and wakes receivers if it made a tombstone, senders if it freed a
 *   slot.
 *
 * The queue's lock is not a variable here: each section under it is one
 * atomic step (prepare, finish, the removal of wake_up()). Between two
 * stores of one section only lockless readers could look (user space at
 * the count, wq_has_sleeper() at the queue), and what they could see
 * there leads to no state that the atomic step does not also reach: a
 * count seen before the list changes is a count read earlier, a list
 * seen before the count changes is the list read later, and anyone who
 * then calls wake_up() waits for the lock anyway.
 *
 * Property: no lost wake-up. When no process can move any more (a
 * `timeout` state: everyone left is asleep), no kernel receiver may sleep
 * while chan_ring_can_recv() holds, and no kernel sender while
 * chan_ring_can_send() holds; asleep is a valid end state only then. Any
 * other stuck state is an invalid end state.
 *
 * Variants that must fail, to show that the check can fail:
 * -DMIRROR: the kernel keeps its waiter count privately and copies it to
 *   the shared word after the fact (under the lock t = ++count or
 *   --count; after it WRITE_ONCE(shared, t)): a woken or leaving waiter's
 *   copy lands after an arriving waiter's;
 * -DNO_PASSON: a waiter leaves without passing a wake-up on;
 * -DREPAIR_NOWAKE: the repair wakes no one;
 * -DLATE_RECOUNT: a woken waiter that waits again counts itself again
 *   only after its next look at the ring (just before it sleeps), not
 *   before it: a publisher between the look and the count reads 0;
 * -DNO_RECOUNT: a woken waiter never counts itself again (until it
 *   leaves, it is a sleeper that user space does not know of).
 *
 * -DNO_REPAIR_HELP leaves the cursor help out of the repair (the code
 * before chan_ring_repair_help()).
 *
 * Parameters: C slots; USEND/URECV (0 or 1) fast-path sender, receiver;
 * KSEND/KRECV kernel senders, receivers; K messages per sender;
 * TIMEOUTS how many kernel waits in all may end by a timeout or signal.
 */

#ifndef C
#define C	2
#endif
#ifndef K
#define K	3
#endif
#ifndef USEND
#define USEND	1
#endif
#ifndef URECV
#define URECV	0
#endif
#ifndef KSEND
#define KSEND	0
#endif
#ifndef KRECV
#define KRECV	2
#endif
#ifndef TIMEOUTS
#define TIMEOUTS 1
#endif

#define NW	(USEND + URECV + KSEND + KRECV)	/* waiter slots */

#define EMPTY	0
#define WRITING	1
#define FULL	2
#define READING	3
#define NONE	0
#define KERNEL	1	/* CHAN_OWNER_KERNEL; endpoints' tokens from 2 */

#define SEND	0	/* CHAN_DIR_SEND: waiting for room */
#define RECV	1	/* CHAN_DIR_RECV: waiting for a message */

typedef slot_t {
	byte lap;
	byte ph;
	byte own;
	bit tomb;
};

slot_t slot[C];
byte tail;
byte head;

/* chan_ring_kstate: send_waiters, recv_waiters, as user space reads them */
byte waiters[2];
#ifdef MIRROR
byte kcount[2];		/* the kernel's private count */
#endif

/* the wait queues: wq[w] is 0, or 1 + the direction waiter w is queued on */
byte wq[4];		/* NW <= 4 */
/* struct chan_waiter's counted: waiter w is in its direction's count */
bit counted[4];

byte timeouts = TIMEOUTS;

/* accounting, checked at the end */
byte sent;		/* messages published (fast path or kernel) */
byte got;		/* messages retired after the copy */
byte tombs;		/* tombstones made by the repair */
byte skipped;		/* tombstones retired (fast path, kernel, repair) */
byte drops;		/* messages freed by the repair with their reader */
bit dead[3];		/* fast-path sender (1), receiver (2) died */

#define I	(pos % C)
#define LAP	(pos / C)
#define SAME	(slot[I].lap == sl && slot[I].ph == sp && slot[I].own == so)
#define FORGET	sl = 0; sp = 0; so = 0
#define HELP(cur) if :: cur == pos -> cur = pos + 1 :: else fi

/*
 * The waiter count. By design one atomic add on the shared word, inside
 * a step under the queue's lock. With -DMIRROR the kernel's private count
 * changes there instead, and the new value is copied to the shared word
 * in a later step of the same process (MIRROR_STORE), after the lock.
 */
#ifdef MIRROR
#define COUNT(dir, d)	kcount[dir] = kcount[dir] + (d); mv = kcount[dir]; mvp = 1
#define MIRROR_STORE(dir) \
	if \
	:: mvp -> atomic { waiters[dir] = mv; mv = 0; mvp = 0 } \
	:: else \
	fi
#define MLOCALS	; byte mv; bit mvp
#else
#define COUNT(dir, d)	waiters[dir] = waiters[dir] + (d)
#define MIRROR_STORE(dir) skip
#define MLOCALS
#endif

/* leave the count if in it (byte arithmetic: + 255 is - 1) */
#define UNCOUNT(w, dir) \
	if \
	:: counted[w] -> counted[w] = 0; COUNT(dir, 255) \
	:: else \
	fi

#if defined(LATE_RECOUNT) || defined(NO_RECOUNT)
#define RLOCALS	; bit again		/* prepared before: counts no more */
#else
#define RLOCALS
#endif

/* the locals every party has */
#define LOCALS	byte pos, sl, sp, so, res, n; bit queued, busy, done MLOCALS RLOCALS

/*
 * wake_up() on an exclusive queue: removes and wakes one waiter, if any;
 * chan_waiter_wake() takes it off the count in the same step. Any queued
 * waiter may be the one (the queue's order is not modelled).
 */
inline wake_up(dir)
{
	atomic {
		if
		:: NW > 0 && wq[0] == dir + 1 -> wq[0] = 0; UNCOUNT(0, dir)
		:: NW > 1 && wq[1] == dir + 1 -> wq[1] = 0; UNCOUNT(1, dir)
		:: NW > 2 && wq[2] == dir + 1 -> wq[2] = 0; UNCOUNT(2, dir)
		:: NW > 3 && wq[3] == dir + 1 -> wq[3] = 0; UNCOUNT(3, dir)
		:: else
		fi
	};
	MIRROR_STORE(dir)
}

#define QUEUED(dir) \
	((NW > 0 && wq[0] == dir + 1) || (NW > 1 && wq[1] == dir + 1) || \
	 (NW > 2 && wq[2] == dir + 1) || (NW > 3 && wq[3] == dir + 1))

#define QN(w, dir)	(NW > w && wq[w] == dir + 1 && counted[w] -> 1 : 0)
#define NQ(dir)		(QN(0, dir) + QN(1, dir) + QN(2, dir) + QN(3, dir))

/* chan_wake(): wq_has_sleeper() (a full barrier and a look), wake_up() */
inline chan_wake(dir)
{
	if
	:: QUEUED(dir) -> wake_up(dir)
	:: else
	fi
}

/*
 * chan_waiter_prepare(): under the queue's lock, count (unless counted
 * already), queue (unless queued still), set_current_state(): the full
 * barrier before the next look at the ring. -DLATE_RECOUNT and
 * -DNO_RECOUNT count only the first time.
 */
#if defined(LATE_RECOUNT) || defined(NO_RECOUNT)
#define RECOUNT_OK	!again
#define PREPARED	again = 1
#else
#define RECOUNT_OK	1
#define PREPARED	skip
#endif

inline waiter_prepare(dir, w)
{
	atomic {
		if
		:: !counted[w] && RECOUNT_OK -> counted[w] = 1; COUNT(dir, 1)
		:: else
		fi;
		wq[w] = dir + 1;
		PREPARED
	};
	MIRROR_STORE(dir)
}

/* chan_waiter_finish(): leave the queue, and the count if still in it */
inline waiter_finish(dir, w)
{
	atomic { wq[w] = 0; UNCOUNT(w, dir) };
	MIRROR_STORE(dir)
}

/*
 * A fast-path party's death, while it holds a slot (never the kernel's:
 * it neither sleeps nor faults while it holds one). `mortal` is the
 * party's own local: 0 for kernel-only parties.
 */
#ifdef DIE
#define DIE_HERE \
	if \
	:: atomic { me != KERNEL && mortal && !dead[mortal] -> \
		    dead[mortal] = 1; run repair(me) }; goto died \
	:: skip \
	fi;
#else
#define DIE_HERE
#endif

/*
 * chan_ring_claim_send(): res = 1 and pos claimed, or res = 0 (full).
 * One step per shared access: the tail, the state word, then a CAS (on
 * what the state said) or a help. The choice on what was loaded is local
 * and made in the step of the access that follows it.
 */
inline claim_send(me)
{
	do
	:: pos = tail;
		d_step { sl = slot[I].lap; sp = slot[I].ph; so = slot[I].own };
		if
		:: atomic { sl == LAP && sp == EMPTY && SAME ->
			slot[I].ph = WRITING; slot[I].own = me; FORGET } ->
			DIE_HERE
			atomic { HELP(tail); res = 1 };
			break
		:: atomic { sl == LAP && sp == EMPTY && !SAME -> FORGET }
		:: atomic { (sl > LAP || (sl == LAP && sp != EMPTY)) ->
			HELP(tail); FORGET }
		:: atomic { sl < LAP -> res = 0; pos = 0; FORGET };
			break
		fi
	od
}

/* chan_ring_publish(): payload, len, flags, then the release store */
inline publish()
{
	atomic { slot[I].tomb = 0; slot[I].ph = FULL; sent++; pos = 0 }
}

/*
 * chan_ring_claim_recv(): res = 1 (a message), 2 (a tombstone), pos
 * claimed; or res = 0 (nothing ready).
 */
inline claim_recv(me)
{
	do
	:: pos = head;
		d_step { sl = slot[I].lap; sp = slot[I].ph; so = slot[I].own };
		if
		:: atomic { sl == LAP && sp == FULL && SAME ->
			slot[I].ph = READING; slot[I].own = me; FORGET } ->
			DIE_HERE
			atomic { HELP(head); res = 1 + slot[I].tomb };
			break
		:: atomic { sl == LAP && sp == FULL && !SAME -> FORGET }
		:: atomic { ((sl == LAP && sp == READING) || sl > LAP) ->
			HELP(head); FORGET }
		:: atomic { (sl < LAP ||
			     (sl == LAP && (sp == EMPTY || sp == WRITING))) ->
			res = 0; pos = 0; FORGET };
			break
		fi
	od
}

/* chan_ring_retire() after the copy (res 1) or of a tombstone (res 2) */
inline retire()
{
	atomic {
		if
		:: res == 1 -> got++
		:: else -> skipped++
		fi;
		slot[I].lap = LAP + 1;
		slot[I].ph = EMPTY;
		slot[I].own = NONE;
		pos = 0
	}
}

/*
 * chan_ring_can_send() / chan_ring_can_recv(): the cursor, then capacity
 * + 1 positions from it, one load per step; res = 1 if the ring can make
 * progress in that direction.
 */
inline can_progress(dir)
{
	atomic { pos = (dir == SEND -> tail : head); n = 0; res = 2 };
	do
	:: res == 2 ->
		d_step {
			sl = slot[I].lap;
			sp = slot[I].ph;
			if
			:: dir == SEND && sl == LAP && sp == EMPTY -> res = 1
			:: dir == SEND && sl < LAP -> res = 0
			:: dir == RECV && sl == LAP && sp == FULL -> res = 1
			:: dir == RECV &&
			   (sl < LAP || (sl == LAP && sp != READING)) -> res = 0
			:: else -> n++; pos++
			fi;
			if
			:: n > C -> res = 0
			:: else
			fi;
			if
			:: res != 2 -> n = 0; pos = 0
			:: else
			fi;
			sl = 0;
			sp = 0
		}
	:: else -> break
	od
}

/* one try of the kernel: chan_try_send() / chan_try_recv(); busy = done */
inline kernel_try(dir)
{
	if
	:: dir == SEND ->
		claim_send(KERNEL);
		if
		:: res == 1 ->
			publish();
			chan_wake(RECV);
			busy = 1
		:: else -> busy = 0
		fi
	:: else ->
		do
		:: claim_recv(KERNEL);
			if
			:: res == 0 -> busy = 0; break
			:: res == 1 -> retire(); chan_wake(SEND); busy = 1; break
			:: res == 2 -> retire(); chan_wake(SEND)	/* skip */
			fi
		od
	fi;
	res = 0
}

/*
 * chan_xfer(): until a try succeeds, or a timeout (signal) ends the wait.
 * Waiter slot w. The sleep is a valid end state: whether it is a lost
 * wake-up is for the watchdog to say.
 */
inline xfer(dir, w)
{
	queued = 0;
	do
	:: if
		:: queued -> waiter_prepare(dir, w)
		:: else
		fi;
		kernel_try(dir);
		if
		:: busy -> break
		:: !busy && !queued -> queued = 1
		:: !busy && queued ->
#ifdef LATE_RECOUNT
			/* the re-count after the look, under the lock */
			atomic {
				if
				:: wq[w] != 0 && !counted[w] ->
					counted[w] = 1; COUNT(dir, 1)
				:: else
				fi
			};
			MIRROR_STORE(dir);
#endif
end_sleep:		if
			:: wq[w] == 0		/* woken, or never slept */
			:: atomic { timeouts > 0 -> timeouts-- }; break
			fi
		fi
	od;
	done = busy;
#if defined(LATE_RECOUNT) || defined(NO_RECOUNT)
	again = 0;
#endif
	if
	:: queued ->
		waiter_finish(dir, w);
		queued = 0;
#ifndef NO_PASSON
		can_progress(dir);
		if
		:: res -> res = 0; chan_wake(dir)
		:: else
		fi
#else
		skip
#endif
	:: else
	fi;
	busy = 0
}

/*
 * kernel receivers: receiver w wants `want` messages, then stops (so
 * that a lost wake-up is not hidden by another receiver that would take
 * the message later anyway); a wait that times out is tried again.
 */
proctype krecv(byte w, want)
{
	LOCALS;
	byte mine;
	bit mortal = 0;

	do
	:: mine < want ->
		xfer(RECV, w);
		if
		:: done -> done = 0; mine++
		:: else
		fi
	:: else -> break
	od;
died:
	skip
}

/* kernel senders: K messages each */
proctype ksend(byte w)
{
	LOCALS;
	byte k;
	bit mortal = 0;

	do
	:: k < K -> xfer(SEND, w); k++
	:: else -> break
	od;
died:
	skip
}

/*
 * The dead endpoint's repair: its slots, one CAS each (the dead token's
 * WRITING and READING slots change under no one else), then the wakes of
 * chan_map_repair().
 */
proctype repair(byte who)
{
	byte r, made, freed, at;
	LOCALS;

	atomic {
		do
		:: r < C ->
			if
			:: slot[r].own == who && slot[r].ph == WRITING ->
				slot[r].tomb = 1;
				slot[r].ph = FULL;
				tombs++;
				made++;
				at = slot[r].lap * C + r
			:: slot[r].own == who && slot[r].ph == READING ->
				if
				:: slot[r].tomb -> skipped++
				:: else -> drops++
				fi;
				at = slot[r].lap * C + r;
				slot[r].lap++;
				slot[r].ph = EMPTY;
				slot[r].own = NONE;
				freed++
			:: else
			fi;
			r++
		:: else -> r = 0; break
		od
	};
	/* a party dies holding one slot: one repaired slot, at `at` */
	assert(made + freed == 1);
#ifndef NO_REPAIR_HELP
	/*
	 * chan_ring_repair_help(), after the slot's CAS: load the cursor;
	 * only if it is at the repaired slot and lap, CAS it one on. The
	 * walk goes on to the other slots, which are not the dead token's:
	 * loads without effect, so doing them first changes nothing.
	 */
	pos = (made -> tail : head);
	atomic {
		if
		:: pos == at && made -> HELP(tail)
		:: pos == at && freed -> HELP(head)
		:: else
		fi;
		pos = 0; at = 0
	};
#endif
#ifndef REPAIR_NOWAKE
	if
	:: made -> chan_wake(RECV)
	:: else
	fi;
	if
	:: freed -> chan_wake(SEND)
	:: else
	fi
#else
	skip
#endif
}

/* the fast-path sender, token 2, waiter slot w when in the kernel */
proctype usend(byte w)
{
	LOCALS;
	byte k, me = 2, mortal = 1;

	do
	:: k < K ->
		claim_send(me);
		if
		:: res == 1 ->
			publish();
			res = 0;
			/* full barrier; then the count */
			if
			:: waiters[RECV] > 0 -> chan_wake(RECV)	/* WAKE */
			:: else
			fi
		:: else ->
			xfer(SEND, w);
			done = 0
		fi;
		k++
	:: else -> break
	od;
died:
	skip
}

/* the fast-path receiver, token 3, waiter slot w when in the kernel */
proctype urecv(byte w)
{
	LOCALS;
	byte me = 3, mortal = 2;

	do
	:: claim_recv(me);
		if
		:: res == 0 ->
			xfer(RECV, w);
			done = 0
		:: else ->
			/* copy out (a message), retire; user_skipped++ */
			retire();
			res = 0;
			/* full barrier; then the count */
			if
			:: waiters[SEND] > 0 -> chan_wake(SEND)	/* WAKE */
			:: else
			fi
		fi
	od;
died:
	skip
}

/*
 * The watchdog: when nothing else can move, every sleeper must be one
 * whose ring cannot progress. The walk is chan_ring_can_*() done at once,
 * which is exact here since nothing moves.
 */
active proctype watchdog()
{
	byte r, p;
	bit recv_ok, send_ok;

	timeout ->
	d_step {
		/* chan_ring_can_recv() */
		p = head; r = 0;
		do
		:: r > C -> break
		:: else ->
			if
			:: slot[p % C].lap == p / C && slot[p % C].ph == FULL ->
				recv_ok = 1; break
			:: slot[p % C].lap < p / C ||
			   (slot[p % C].lap == p / C &&
			    slot[p % C].ph != READING) -> break
			:: else -> p++; r++
			fi
		od;
		/* chan_ring_can_send() */
		p = tail; r = 0;
		do
		:: r > C -> break
		:: else ->
			if
			:: slot[p % C].lap == p / C && slot[p % C].ph == EMPTY ->
				send_ok = 1; break
			:: slot[p % C].lap < p / C -> break
			:: else -> p++; r++
			fi
		od
	};
	/* a receiver asleep beside a message, a sender beside a free slot */
	assert(!(QUEUED(RECV) && recv_ok));
	assert(!(QUEUED(SEND) && send_ok));
	/*
	 * Everything published or tombstoned was taken, skipped, lost with
	 * a dead reader, or is still FULL; and none is left FULL behind a
	 * sleeping receiver.
	 */
	d_step {
		r = 0; p = 0;
		do
		:: r < C -> p = p + (slot[r].ph == FULL); r++
		:: else -> break
		od
	};
	assert(sent + tombs == got + skipped + drops + p);
	assert(!QUEUED(RECV) || p == 0);
#if !defined(MIRROR) && !defined(LATE_RECOUNT) && !defined(NO_RECOUNT)
	/*
	 * The shared counts are the sleepers not yet woken, exactly: each
	 * waiter is counted if and only if it is queued.
	 */
	assert(waiters[SEND] == NQ(SEND) && waiters[RECV] == NQ(RECV));
	assert(counted[0] == (wq[0] != 0) && counted[1] == (wq[1] != 0) &&
	       counted[2] == (wq[2] != 0) && counted[3] == (wq[3] != 0));
#endif
	skip
}

init
{
	byte w;

	atomic {
		w = 0;
		if
		:: USEND -> run usend(w); w++
		:: else
		fi;
		if
		:: URECV -> run urecv(w); w++
		:: else
		fi;
		do
		:: w < USEND + URECV + KSEND -> run ksend(w); w++
		:: else -> break
		od;
		/* the first kernel receiver takes what the others leave */
		do
		:: w < NW - 1 -> run krecv(w, 1); w++
		:: w == NW - 1 ->
			run krecv(w, (USEND + KSEND) * K - (KRECV - 1));
			w++
		:: else -> break
		od
	}
}
