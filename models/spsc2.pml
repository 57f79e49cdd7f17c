/*
 * SPDX-License-Identifier: GPL-2.0
 *
 * spsc2.pml: the compact SPSC ring of kmod/chan_spsc_ring.h with the
 * wake-up handshake, on x86-TSO memory, with deaths.
 *
 * Memory: each CPU has a FIFO store buffer (B entries). A store enters
 * its CPU's buffer; a drain process of its own writes the oldest entry to
 * memory at any time; a load reads memory (a CPU's own cursor and cached
 * cursor are its locals, which is what store forwarding gives it). A full
 * barrier waits until its CPU's buffer is empty; so does a locked
 * operation (the kernel's count of a sleeper, the wake-up's lock). This is
 * the one reordering x86 allows, store then load, which is the one the
 * handshake is about; the payload-before-tail order is the FIFO (release
 * on other architectures).
 *
 * Producer (fast path): pos = tail; room unless pos - head_cache == C,
 * then reload head; store payload (with its length) and tail = pos + 1;
 * then the handshake: per HS_*, a barrier or not, load recv_waiters, and
 * WAKE (a locked operation in the kernel) if it is not 0. Full: the kernel
 * path (chan_xfer()): count itself in send_waiters (locked), under
 * HS_ASYM force a barrier on the consumer's CPU (membarrier/IPI: the
 * consumer's buffer drained at that instant), look at head once more,
 * sleep until woken. The consumer mirrors it with head, send_waiters and
 * recv_waiters. The kernel path here only waits and goes back to the fast
 * path (a kernel send or receive in its place takes the same steps).
 *
 *  HS_FENCE  a full barrier before every waiter-count load (today's)
 *  HS_LAZY   the producer's barrier only when its cached head says the
 *            ring was empty (pos == head_cache); must fail
 *  HS_ASYM   no per-message barrier; the would-be sleeper forces one on
 *            the peer after counting itself, before its last look
 *  HS_NONE   no barrier at all; must fail
 *
 * -DPOLL_C: the consumer waits in poll() instead of a receive that sleeps
 * (chan_endpoint_poll()): on its first poll it counts itself in
 * recv_waiters for good (a wake-up does not take it off; its endpoint's
 * release does) and, under HS_ASYM, forces the barrier on the producer
 * then, once; every poll queues itself and looks at the tail after a full
 * barrier, and sleeps until woken if it saw nothing.
 *
 * -DTAIL_FIRST (must fail on the order assertion) stores the tail before
 * the payload: the check of the protocol itself can fail.
 *
 * Deaths (-DDIE_P, -DDIE_C): a party may be killed at any step of its fast
 * path. Its stores still drain (a killed task's CPU does not lose them),
 * then its endpoint's release wakes the other side; a dead producer's
 * release also says "no sender" (EPIPE once drained). A new consumer
 * takes over from a dead one, with an empty cache. Nothing is repaired.
 *
 * Checked: every message returned once, in order (assert at each
 * return); no lost wake-up (a sleeper never woken is an invalid end
 * state: the producer does not close its endpoint when it is done, so
 * nothing else would wake the consumer); at the end head = tail = what
 * was sent, and every message sent was returned, or taken by a consumer
 * killed between its head store and its return (at most one); without
 * DIE_P, all K were sent. Bounded: every loop ends (no cycle without
 * progress: the search would find the invalid end state otherwise).
 */

#ifndef C
#define C 2		/* capacity */
#endif
#ifndef K
#define K 3		/* messages */
#endif
#ifndef B
#define B 2		/* store buffer entries per CPU */
#endif

#if !defined(HS_FENCE) && !defined(HS_LAZY) && !defined(HS_ASYM) && !defined(HS_NONE)
#define HS_ASYM
#endif

/* Store buffer addresses: the slots 0..C-1, then the cursors. */
#define A_TAIL	C
#define A_HEAD	(C + 1)

byte data[C];		/* payload and length: message number + 1 */
byte tail, head;
byte rw, sw;		/* recv_waiters, send_waiters */
bool cwait, pwait;	/* counted and not yet woken (wait queue) */
bool pgone;		/* the producer's endpoint released */
bool cpolled;		/* POLL_C: the consumer counted for good in rw */

/* Store buffers: producer's (p*) and consumer's (c*). */
byte pa[B], pv[B], pn;
byte ca[B], cv[B], cn;

byte next_ret;		/* the next message to return (0-based) */
byte returned;
byte dead_taken;
bool pdone;
bool pfin, cfin;	/* the producer, the last consumer ended */

#define WRITE(a, v) \
	if \
	:: (a) == A_TAIL -> tail = (v) \
	:: (a) == A_HEAD -> head = (v) \
	:: else -> data[(a)] = (v) \
	fi

inline pstore(a, v)
{
	atomic { (pn < B) -> pa[pn] = a; pv[pn] = v; pn++ }
}

inline cstore(a, v)
{
	atomic { (cn < B) -> ca[cn] = a; cv[cn] = v; cn++ }
}

/* The store buffers drain in order, whenever. */
active proctype pdrain()
{
	byte k;
end:
	do
	:: atomic {
		pn > 0 ->
		WRITE(pa[0], pv[0]);
		k = 0;
		do
		:: k + 1 < pn -> pa[k] = pa[k + 1]; pv[k] = pv[k + 1]; k++
		:: else -> break
		od;
		pn--; k = 0
	   }
	od
}

active proctype cdrain()
{
	byte k;
end:
	do
	:: atomic {
		cn > 0 ->
		WRITE(ca[0], cv[0]);
		k = 0;
		do
		:: k + 1 < cn -> ca[k] = ca[k + 1]; cv[k] = cv[k + 1]; k++
		:: else -> break
		od;
		cn--; k = 0
	   }
	od
}

#ifdef DIE_P
#define PMAYDIE	if :: goto pdie :: skip fi
#else
#define PMAYDIE	skip
#endif
#ifdef DIE_C
#define CMAYDIE	if :: first -> goto cdie :: skip fi
#else
#define CMAYDIE	skip
#endif

/* The wake-ups: the kernel's, under its lock (a locked operation). */
#ifdef POLL_C
/* A poller stays counted: only its endpoint's release uncounts it. */
#define WAKE_CONSUMER	atomic { if :: cwait -> cwait = false :: else fi }
#else
#define WAKE_CONSUMER	atomic { if :: cwait -> cwait = false; rw-- :: else fi }
#endif
#define WAKE_PRODUCER	atomic { if :: pwait -> pwait = false; sw-- :: else fi }

active proctype producer()
{
	byte t, hc, h2, i;
	bool fence;

	t = 0;
	hc = 0;
	i = 0;
	do
	:: i == K -> break
	:: else ->
		if
		:: t - hc >= C ->
			hc = head;
			PMAYDIE
		:: else
		fi;
		if
		:: t - hc < C ->
			fence = false;
#if defined(HS_FENCE)
			fence = true;
#elif defined(HS_LAZY)
			fence = (t == hc);
#endif
#ifndef TAIL_FIRST
			pstore(t % C, i + 1);
			PMAYDIE;
			pstore(A_TAIL, t + 1);
#else
			pstore(A_TAIL, t + 1);	/* broken: tail before payload */
			PMAYDIE;
			pstore(t % C, i + 1);
#endif
			t++;
			i++;
			PMAYDIE;
			if
			:: fence -> (pn == 0)
			:: else
			fi;
			if
			:: rw > 0 -> (pn == 0); WAKE_CONSUMER
			:: else
			fi;
			PMAYDIE
		:: else ->
			/* Full: chan_xfer() counts, looks again, sleeps. */
			(pn == 0);
			atomic { sw++; pwait = true };
#ifdef HS_ASYM
			(cn == 0);
#endif
			h2 = head;
			if
			:: t - h2 < C -> WAKE_PRODUCER
			:: else -> (!pwait)
			fi
		fi
	od;
	/* Done; the endpoint stays open. */
	pdone = true;
	goto pend;
pdie:
	/* Its stores drain; the release says so and wakes the consumer. */
	(pn == 0);
	atomic { pgone = true; WAKE_CONSUMER };
pend:
	pfin = true
}

proctype consumer(bool first)
{
	byte h, tc, t2, v;
	bool g, took, fresh;

	h = head;	/* a new consumer's cursor, after the release */
	tc = h;
	do
	:: next_ret == K -> break
	:: else ->
		if
		:: tc == h ->
			tc = tail;
			CMAYDIE
		:: else
		fi;
		if
		:: tc != h ->
			v = data[h % C];
			CMAYDIE;
			took = true;
			cstore(A_HEAD, h + 1);
			h++;
			CMAYDIE;
			atomic {
				assert(v == next_ret + 1);
				next_ret++;
				returned++;
				took = false
			};
			CMAYDIE;
#if defined(HS_FENCE) || defined(HS_LAZY)
			(cn == 0);
#endif
			if
			:: sw > 0 -> (cn == 0); WAKE_PRODUCER
			:: else
			fi
		:: else ->
#ifdef POLL_C
			/*
			 * Empty: poll() queues itself, counts itself the first
			 * time (and then forces the barrier, once), barrier,
			 * looks; the caller receives if it saw a message.
			 */
			(cn == 0);
			atomic {
				cwait = true;
				if
				:: !cpolled -> rw++; cpolled = true; fresh = true
				:: else
				fi
			};
#ifdef HS_ASYM
			if
			:: fresh -> (pn == 0); fresh = false
			:: else
			fi;
#endif
			g = pgone;
			t2 = tail;
			if
			:: t2 != h -> atomic { cwait = false }
			:: t2 == h && g -> break	/* POLLHUP, then EPIPE */
			:: else -> (!cwait)
			fi
#else
			/* Empty: chan_xfer() counts, looks again, sleeps. */
			(cn == 0);
			atomic { rw++; cwait = true };
#ifdef HS_ASYM
			(pn == 0);
#endif
			g = pgone;
			t2 = tail;
			if
			:: t2 != h -> WAKE_CONSUMER
			:: t2 == h && g -> WAKE_CONSUMER; break	/* EPIPE */
			:: else -> (!cwait)
			fi
#endif
		fi
	od;
	cfin = true;
	goto cend;
cdie:
	/* Its stores drain, the release wakes the producer, a new one. */
	(cn == 0);
	atomic {
		if
		:: cpolled -> rw--; cpolled = false; cwait = false
		:: else
		fi
	};
	WAKE_PRODUCER;
	if
	:: took -> dead_taken = 1; next_ret++
	:: else
	fi;
	run consumer(false);
cend:
	skip
}

init
{
	run consumer(true);
	(pfin && cfin);
	(pn == 0 && cn == 0);
	assert(head == tail);
	assert(returned + dead_taken == tail);
#ifndef DIE_P
	assert(tail == K);
#endif
}
