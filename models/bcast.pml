/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The wake-up of a lossless broadcast sender by fast-path receivers
 * (kmod/bcast.c chan_bcast_xfer()/chan_bcast_try_send()/
 * chan_bcast_doorbell(), userlib/src/ep.c after chan__bcast_recv();
 * docs/fast-path.md "Lossless: the cursor pages are the gating lines").
 *
 * One kernel sender sends K messages into a ring of C slots; NR mapped
 * receivers read them all on the fast path, each moving its own cursor.
 * Sequentially consistent: each shared access is one step, and the
 * barriers of the code are what make the real order this one (the
 * sender's count, full barrier, try; the try's gen, read barrier,
 * cursors; the receiver's cursor CAS, full fence, count).
 *
 * Sender, until K sent: a try (gen, then each cursor, then the decision
 * under the lock: room if tail - min < C); full and not counted: count
 * itself in send_waiters and try again; full and counted: queue itself
 * (prepare_to_wait), look at gen, sleep unless it moved; woken or not,
 * dequeue and try again. Uncounts itself at the end.
 * Receiver: wait for tail > cursor (its own waiting is the kernel's,
 * not modelled), move the cursor, read send_waiters; not zero: the
 * doorbell, gen++ then wake every queued sender.
 *
 * Checked: no invalid end state (a sender asleep with room made and no
 * one left to wake it), and at the end everything sent and received.
 *
 * Variants that must fail (invalid end state):
 * -DGEN_AFTER: the try reads gen after the cursors;
 * -DLATE_COUNT: the sender counts itself without trying again.
 */
#ifndef K
#define K 3
#endif
#ifndef C
#define C 1
#endif
#ifndef NR
#define NR 2
#endif

byte tail = 0;
byte cur[NR];
byte gen = 0;
byte send_waiters = 0;
bool queued = false;
byte done = 0;

proctype sender()
{
	byte g, m, i, c;
	bool counted = false;

	do
	:: tail == K -> break
	:: else ->
try:
#ifndef GEN_AFTER
		g = gen;
#endif
		m = tail; i = 0;
		do
		:: i < NR -> c = cur[i]; if :: c < m -> m = c :: else fi; i++
		:: else -> break
		od;
#ifdef GEN_AFTER
		g = gen;
#endif
		if
		:: tail - m < C -> tail++	/* sent (release of the tail) */
		:: else ->
			if
			:: !counted ->
				send_waiters++; counted = true;
#ifndef LATE_COUNT
				goto try
#endif
			:: else -> skip
			fi;
			queued = true;		/* prepare_to_wait() */
			if
			:: gen != g -> skip	/* moved: look again */
			:: else -> !queued	/* asleep until woken */
			fi;
			queued = false	/* finish_wait() */
		fi
	od;
	if
	:: counted -> send_waiters--
	:: else -> skip
	fi;
	done++
}

proctype receiver(byte me)
{
	byte got = 0;

	do
	:: got == K -> break
	:: else ->
		tail > cur[me];		/* a message at the cursor */
		cur[me]++;		/* CAS, a full barrier; then the fence */
		got++;
		if
		:: send_waiters > 0 ->
			gen++;		/* CHAN_IOC_WAKE: the bump ... */
			queued = false	/* ... then wake_up_all() */
		:: else -> skip
		fi
	od;
	done++
}

init {
	byte i;

	atomic {
		run sender();
		i = 0;
		do
		:: i < NR -> run receiver(i); i++
		:: else -> break
		od
	};
	done == NR + 1;
	assert(tail == K && send_waiters == 0);
}
