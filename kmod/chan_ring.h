/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The ring protocol of shared/DESIGN.md section 5, shared word for word by
 * the module and by libchan (and the host-side tests). Only the atomics shim
 * below differs between the two: kernel primitives on one side, the
 * compiler's __atomic builtins on the other.
 *
 * The models in models/ (ring.pml; stream.pml for the stream claim) check
 * this protocol; the names of the branches below follow them.
 *
 * Memory that another party can write (a mapped ring) is never trusted:
 * every shared word is loaded once per decision, every index is masked,
 * every length is clamped and every loop is bounded.
 *
 * Lap wrap-around: a slot's lap is stored in CHAN_SLOT_LAP_BITS (46) bits
 * and compared with the lap of a cursor position by the sign of their
 * difference modulo 2^46. In a consistent ring the two differ by at most
 * one, so the comparison is exact; it could only be fooled by a thread
 * that stalls between loading a state word and acting on it while the ring
 * goes round 2^45 times (more than 10^13 messages per slot). Even then
 * every transition is a compare-and-swap against the full 64-bit word just
 * loaded, and a cursor only moves by a compare-and-swap from the exact
 * position loaded, so a stale thread's move fails and it reloads: a wrapped
 * lap can make a thread retry or report full/empty once, never claim a slot
 * twice, so no message is lost or duplicated.
 *
 * Positions themselves are 64-bit and never wrap in practice (2^64
 * messages); callers tell success from failure by the slot pointer, never
 * by the sign of the position.
 */
#ifndef _CHAN_RING_H
#define _CHAN_RING_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/compiler.h>
#include <linux/errno.h>
#include <linux/atomic.h>
#include <linux/string.h>
#include <asm/barrier.h>
#include <linux/const.h>
#include <uapi/linux/chan.h>

/* Acquire load: pairs with a release store or CAS by another party. */
#define chan_load_acquire(p)	smp_load_acquire(p)
#define chan_load(p)		READ_ONCE(*(p))
#define chan_store(p, v)	WRITE_ONCE(*(p), (v))
/* Release store: pairs with chan_load_acquire() by another party. */
#define chan_store_release(p, v) smp_store_release(p, v)

/* Full-barrier CAS (acquire and release): on failure *old is updated. */
static inline bool chan_cas(__u64 *p, __u64 *old, __u64 new)
{
	return try_cmpxchg64(p, old, new);
}
#else /* user space */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>
#include <linux/const.h>
#include <linux/chan.h>

#define chan_load_acquire(p)	__atomic_load_n(p, __ATOMIC_ACQUIRE)
#define chan_load(p)		__atomic_load_n(p, __ATOMIC_RELAXED)
#define chan_store(p, v)	__atomic_store_n(p, v, __ATOMIC_RELAXED)
#define chan_store_release(p, v) __atomic_store_n(p, v, __ATOMIC_RELEASE)

static inline bool chan_cas(__u64 *p, __u64 *old, __u64 new)
{
	return __atomic_compare_exchange_n(p, old, new, false,
					   __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}
#endif

/*
 * A bound on retries of one operation. Each retry means another party made
 * progress (claimed a slot or moved a cursor), so honest contention never
 * comes near it; it exists so that a corrupted mapped ring cannot make the
 * kernel spin.
 */
#define CHAN_RING_RETRY_MAX	_BITUL(16)

#define CHAN_SLOT_LAP_MASK	(_BITULL(CHAN_SLOT_LAP_BITS) - 1)
#define CHAN_SLOT_OWNER_MASK	(_BITUL(CHAN_SLOT_OWNER_BITS) - 1)
#define CHAN_SLOT_HDR_SIZE	16U

/**
 * struct chan_ring_view - a private, trusted description of a ring
 * @hdr: the shared header
 * @slots: slot 0
 * @mask: capacity - 1
 * @shift: log2(capacity)
 * @slot_size: bytes per slot
 * @msg_size: largest payload
 *
 * Built from the owner's own copy of the parameters, never from the shared
 * header, which another party may have overwritten.
 */
struct chan_ring_view {
	struct chan_ring_hdr *hdr;
	unsigned char *slots;
	__u32 mask;
	__u32 shift;
	__u32 slot_size;
	__u32 msg_size;
};

/* Slot size for a payload: header plus payload, rounded to a cache line. */
static inline __u32 chan_ring_slot_size(__u32 msg_size)
{
	return (CHAN_SLOT_HDR_SIZE + msg_size + CHAN_RING_ALIGN - 1) &
		~(CHAN_RING_ALIGN - 1);
}

static inline __u64 chan_slot_state(__u64 lap, __u32 phase, __u32 owner)
{
	return ((lap & CHAN_SLOT_LAP_MASK) << CHAN_SLOT_LAP_SHIFT) |
	       ((__u64)(owner & CHAN_SLOT_OWNER_MASK) << CHAN_SLOT_OWNER_SHIFT) |
	       (phase & CHAN_SLOT_PHASE_MASK);
}

static inline __u32 chan_slot_phase(__u64 state)
{
	return state & CHAN_SLOT_PHASE_MASK;
}

static inline __u32 chan_slot_owner(__u64 state)
{
	return (state >> CHAN_SLOT_OWNER_SHIFT) & CHAN_SLOT_OWNER_MASK;
}

static inline __u64 chan_slot_lap(__u64 state)
{
	return state >> CHAN_SLOT_LAP_SHIFT;
}

static inline __u64 chan_ring_lap(const struct chan_ring_view *v, __u64 pos)
{
	return (pos >> v->shift) & CHAN_SLOT_LAP_MASK;
}

/* Signed difference a - b of two laps, modulo 2^CHAN_SLOT_LAP_BITS. */
static inline __s64 chan_lap_diff(__u64 a, __u64 b)
{
	return (__s64)((a - b) << (64 - CHAN_SLOT_LAP_BITS)) >>
	       (64 - CHAN_SLOT_LAP_BITS);
}

static inline struct chan_slot *chan_ring_slot(const struct chan_ring_view *v,
					       __u64 pos)
{
	return (struct chan_slot *)(v->slots +
				    (size_t)(pos & v->mask) * v->slot_size);
}

/* Move a cursor from pos to pos + 1 unless someone already did. */
static inline void chan_ring_help(__u64 *cursor, __u64 pos)
{
	__u64 expect = pos;

	chan_cas(cursor, &expect, pos + 1);
}

/**
 * chan_ring_claim_send() - claim the next free slot for writing
 * @v: the ring
 * @owner: the claimant's owner token
 * @posp: set to the claimed position
 *
 * Return: the slot, now WRITING(lap, owner); or NULL with *posp set to
 * -EAGAIN when the ring is full, -EIO when the retry bound was hit.
 */
static inline struct chan_slot *
chan_ring_claim_send(const struct chan_ring_view *v, __u32 owner, __s64 *posp)
{
	__u32 n;

	for (n = 0; n < CHAN_RING_RETRY_MAX; n++) {
		/* Acquire: pairs with the cursor CAS, so the claim of every
		 * position below the tail is visible in the state load.
		 */
		__u64 pos = chan_load_acquire(&v->hdr->tail);
		struct chan_slot *s = chan_ring_slot(v, pos);
		/* Acquire: pairs with the release in chan_ring_retire(), so
		 * the previous reader is done with the payload we overwrite.
		 */
		__u64 st = chan_load_acquire(&s->state);
		__u64 lap = chan_ring_lap(v, pos);
		__s64 d = chan_lap_diff(chan_slot_lap(st), lap);

		if (d == 0 && chan_slot_phase(st) == CHAN_SLOT_EMPTY) {
			if (chan_cas(&s->state, &st,
				     chan_slot_state(lap, CHAN_SLOT_WRITING,
						     owner))) {
				chan_ring_help(&v->hdr->tail, pos);
				*posp = (__s64)pos;
				return s;
			}
		} else if (d >= 0) {
			/* Claimed for this lap already (or retired): the tail
			 * is stale, maybe left behind by a claimant that died
			 * before helping it.
			 */
			chan_ring_help(&v->hdr->tail, pos);
		} else {
			/* Still in use from the previous lap: full. */
			*posp = -EAGAIN;
			return NULL;
		}
	}
	*posp = -EIO;
	return NULL;
}

/**
 * chan_ring_publish() - make a claimed slot's message visible
 * @v: the ring
 * @s: the slot returned by chan_ring_claim_send()
 * @pos: its position
 * @len: payload length, already written to s->data
 * @owner: the claimant's owner token
 */
static inline void chan_ring_publish(const struct chan_ring_view *v,
				     struct chan_slot *s, __u64 pos, __u32 len,
				     __u32 owner)
{
	chan_store(&s->len, len);
	chan_store(&s->flags, 0U);
	/* Release: pairs with the acquire in chan_ring_claim_recv(), so the
	 * payload and length are visible to whoever sees FULL.
	 */
	chan_store_release(&s->state,
			   chan_slot_state(chan_ring_lap(v, pos),
					   CHAN_SLOT_FULL, owner));
}

/**
 * chan_ring_claim_recv() - claim the oldest message for reading
 * @v: the ring
 * @owner: the claimant's owner token
 * @max_len: largest payload the caller can take
 * @posp: set to the claimed position, or to a negative errno
 * @lenp: set to the message length (also on -EMSGSIZE)
 *
 * A message longer than @max_len is not claimed: it stays at the head and
 * *posp is -EMSGSIZE. The length is read while the slot is FULL and the
 * claim compares the whole state word, so the length belongs to the
 * message claimed.
 *
 * The flags are read once, here: a tombstone is claimed whatever its
 * length and reported with a length of 0, so *lenp never exceeds
 * @max_len, whatever a mapper writes into the slot's flags afterwards (a
 * caller that reads them again, chan_slot_is_tombstone(), can only take a
 * tombstone for an empty message or the other way round).
 *
 * Return: the slot, now READING(lap, owner); or NULL with *posp set to
 * -EAGAIN when nothing is ready, -EMSGSIZE, or -EIO on the retry bound.
 */
static inline struct chan_slot *
chan_ring_claim_recv(const struct chan_ring_view *v, __u32 owner,
		     __u32 max_len, __s64 *posp, __u32 *lenp)
{
	__u32 n;

	for (n = 0; n < CHAN_RING_RETRY_MAX; n++) {
		/* Acquire: pairs with the cursor CAS (see claim_send). */
		__u64 pos = chan_load_acquire(&v->hdr->head);
		struct chan_slot *s = chan_ring_slot(v, pos);
		/* Acquire: pairs with the release in chan_ring_publish(). */
		__u64 st = chan_load_acquire(&s->state);
		__u64 lap = chan_ring_lap(v, pos);
		__s64 d = chan_lap_diff(chan_slot_lap(st), lap);
		__u32 phase = chan_slot_phase(st);

		if (d == 0 && phase == CHAN_SLOT_FULL) {
			/* Acquire, both: each orders the loads after it, so
			 * the EMSGSIZE re-check below reads the state after
			 * the flags and the length.
			 */
			__u32 flags = chan_load_acquire(&s->flags);
			__u32 len = chan_load_acquire(&s->len);

			if (len > v->msg_size)
				len = v->msg_size;
			if (flags & CHAN_SLOT_TOMBSTONE)
				len = 0;
			if (len > max_len) {
				/* A changed state means the length may be a
				 * later message's: retry.
				 */
				if (chan_load(&s->state) != st)
					continue;
				*lenp = len;
				*posp = -EMSGSIZE;
				return NULL;
			}
			if (chan_cas(&s->state, &st,
				     chan_slot_state(lap, CHAN_SLOT_READING,
						     owner))) {
				chan_ring_help(&v->hdr->head, pos);
				*lenp = len;
				*posp = (__s64)pos;
				return s;
			}
		} else if ((d == 0 && phase == CHAN_SLOT_READING) || d > 0) {
			/* Claimed or retired for this lap: head is stale. */
			chan_ring_help(&v->hdr->head, pos);
		} else {
			/* EMPTY or WRITING for this lap, or an older lap. */
			*posp = -EAGAIN;
			return NULL;
		}
	}
	*posp = -EIO;
	return NULL;
}

/**
 * chan_slot_is_tombstone() - did the writer of a claimed slot die?
 * @s: a slot returned by chan_ring_claim_recv()
 *
 * A second read of the flags: on a mapped ring it may disagree with the
 * claim's, so use it to classify the slot, never to size a copy (the
 * length chan_ring_claim_recv() returned does that).
 *
 * Return: true if the slot holds no message, only the mark of a repair.
 */
static inline bool chan_slot_is_tombstone(const struct chan_slot *s)
{
	return chan_load(&s->flags) & CHAN_SLOT_TOMBSTONE;
}

/**
 * chan_ring_retire() - hand a read slot back to producers for the next lap
 * @v: the ring
 * @s: the slot returned by chan_ring_claim_recv()
 * @pos: its position
 */
static inline void chan_ring_retire(const struct chan_ring_view *v,
				    struct chan_slot *s, __u64 pos)
{
	/* Release: pairs with the acquire in chan_ring_claim_send(), so our
	 * reads of the payload finish before a producer overwrites it.
	 */
	chan_store_release(&s->state,
			   chan_slot_state(chan_ring_lap(v, pos) + 1,
					   CHAN_SLOT_EMPTY, CHAN_OWNER_NONE));
}

/*
 * Byte streams (CHAN_CREATE_STREAM): the stream claim. models/stream.pml
 * checks it.
 *
 * Writers send as above: one slot per atomic write. Readers take bytes
 * from the slot at the head, and may leave the rest of it for the next
 * reader, so a stream reader claims the head slot (FULL to READING)
 * WITHOUT moving the head, and either hands it back FULL of the same lap
 * with the bytes read so far stored in its flags (above the tombstone
 * bit), or, read to its end, retires it and only then helps the head on.
 * A read that wants more claims the next slot before it retires the one
 * it finished (chan_ring_claim_stream_next()), so one read takes one
 * range of the stream. READING at the head thus means "another reader is
 * in it": stream readers wait for it (-EBUSY), never help the head past
 * it. Message and stream claims never meet on one ring.
 */
#define CHAN_SLOT_STREAM_OFF_SHIFT	1

/*
 * The length and offset of a stream slot just claimed (READING, ours):
 * read once, after the claim, and clamped: the length to the slot (0 for
 * a tombstone), the offset to the length.
 */
static inline void chan_ring_stream_claimed(const struct chan_ring_view *v,
					    const struct chan_slot *s,
					    __u32 *lenp, __u32 *offp)
{
	__u32 flags = chan_load_acquire(&s->flags);
	__u32 len = chan_load_acquire(&s->len);
	__u32 off = flags >> CHAN_SLOT_STREAM_OFF_SHIFT;

	if (len > v->msg_size)
		len = v->msg_size;
	if (flags & CHAN_SLOT_TOMBSTONE)
		len = 0;
	if (off > len)
		off = len;
	*lenp = len;
	*offp = off;
}

/**
 * chan_ring_claim_stream() - claim the head slot of a stream for reading
 * @v: the ring
 * @owner: the claimant's owner token
 * @posp: set to the claimed position, or to a negative errno
 * @lenp: set to the write's length, clamped to the slot (0: a tombstone)
 * @offp: set to the bytes of it already read, clamped to *@lenp
 *
 * The head does not move. The length and the offset are read once, here,
 * while the slot is FULL, and clamped, so whatever a mapper wrote there
 * the caller copies at most *@lenp - *@offp bytes from inside the slot.
 * A claimed slot with *@offp == *@lenp has nothing left: retire it.
 *
 * Return: the slot, now READING(lap, owner); or NULL with *posp set to
 * -EAGAIN when the stream is empty, -EBUSY when another reader holds the
 * head slot, or -EIO on the retry bound.
 */
static inline struct chan_slot *
chan_ring_claim_stream(const struct chan_ring_view *v, __u32 owner,
		       __s64 *posp, __u32 *lenp, __u32 *offp)
{
	__u32 n;

	for (n = 0; n < CHAN_RING_RETRY_MAX; n++) {
		/* Acquire: pairs with the cursor CAS (see claim_send). */
		__u64 pos = chan_load_acquire(&v->hdr->head);
		struct chan_slot *s = chan_ring_slot(v, pos);
		/* Acquire: pairs with the release in chan_ring_publish() and
		 * chan_ring_stream_hand_back().
		 */
		__u64 st = chan_load_acquire(&s->state);
		__u64 lap = chan_ring_lap(v, pos);
		__s64 d = chan_lap_diff(chan_slot_lap(st), lap);
		__u32 phase = chan_slot_phase(st);

		if (d == 0 && phase == CHAN_SLOT_FULL) {
			/* The offset and length only once the claim is ours:
			 * read before the CAS they could be stale, since a
			 * reader that claims and hands the slot back in
			 * between stores the same state word (FULL, this
			 * lap, its token) it found, and the CAS succeeds.
			 */
			if (!chan_cas(&s->state, &st,
				      chan_slot_state(lap, CHAN_SLOT_READING,
						      owner)))
				continue;
			chan_ring_stream_claimed(v, s, lenp, offp);
			*posp = (__s64)pos;
			return s;
		} else if (d == 0 && phase == CHAN_SLOT_READING) {
			*posp = -EBUSY;
			return NULL;
		} else if (d > 0) {
			/* Retired for this lap: the head is stale, maybe left
			 * behind by a reader that died before helping it.
			 */
			chan_ring_help(&v->hdr->head, pos);
		} else {
			/* EMPTY or WRITING for this lap, or an older lap. */
			*posp = -EAGAIN;
			return NULL;
		}
	}
	*posp = -EIO;
	return NULL;
}

/**
 * chan_ring_claim_stream_next() - claim the slot after the one we hold
 * @v: the ring
 * @owner: the claimant's owner token
 * @pos: the position after the slot the caller holds READING and has read
 *	to its end (and has not retired yet)
 * @lenp: set as by chan_ring_claim_stream()
 * @offp: set as by chan_ring_claim_stream()
 *
 * A read that goes on past the end of a write claims the next write
 * before it retires the one it finished, so that no other reader can
 * take bytes between the two: each read is one range of the stream. No
 * one else claims @pos meanwhile: readers claim only at the head, which
 * cannot pass the slot we hold. The caller then retires its slot, which
 * leaves the head at @pos, READING (ours): the readers after us wait.
 *
 * Return: the slot, now READING(lap, @owner), or NULL if it is not FULL
 * of its lap (nothing written there yet, a write not yet published, or a
 * scribble): the read ends there. Never loops.
 */
static inline struct chan_slot *
chan_ring_claim_stream_next(const struct chan_ring_view *v, __u32 owner,
			    __u64 pos, __u32 *lenp, __u32 *offp)
{
	struct chan_slot *s = chan_ring_slot(v, pos);
	/* Acquire: pairs with the release in chan_ring_publish(). */
	__u64 st = chan_load_acquire(&s->state);
	__u64 lap = chan_ring_lap(v, pos);

	if (chan_lap_diff(chan_slot_lap(st), lap) != 0 ||
	    chan_slot_phase(st) != CHAN_SLOT_FULL)
		return NULL;
	if (!chan_cas(&s->state, &st,
		      chan_slot_state(lap, CHAN_SLOT_READING, owner)))
		return NULL;
	chan_ring_stream_claimed(v, s, lenp, offp);
	return s;
}

/**
 * chan_ring_stream_hand_back() - give a partly read stream slot back
 * @v: the ring
 * @s: the slot returned by chan_ring_claim_stream()
 * @pos: its position
 * @off: the bytes of its write read so far (less than its length)
 * @owner: the claimant's owner token
 *
 * The slot goes back to FULL of the same lap, the head stays: the next
 * reader goes on at @off. Wake the readers waiting for it (-EBUSY).
 */
static inline void chan_ring_stream_hand_back(const struct chan_ring_view *v,
					      struct chan_slot *s, __u64 pos,
					      __u32 off, __u32 owner)
{
	chan_store(&s->flags, off << CHAN_SLOT_STREAM_OFF_SHIFT);
	/* Release: pairs with the acquire in chan_ring_claim_stream(), so
	 * the next reader sees the offset.
	 */
	chan_store_release(&s->state,
			   chan_slot_state(chan_ring_lap(v, pos),
					   CHAN_SLOT_FULL, owner));
}

/**
 * chan_ring_stream_retire() - retire a stream slot read to its end
 * @v: the ring
 * @s: the slot returned by chan_ring_claim_stream()
 * @pos: its position
 *
 * EMPTY for the next lap, then the head moves past it.
 */
static inline void chan_ring_stream_retire(const struct chan_ring_view *v,
					   struct chan_slot *s, __u64 pos)
{
	chan_ring_retire(v, s, pos);
	chan_ring_help(&v->hdr->head, pos);
}

/**
 * chan_ring_stream_head() - what a stream reader finds at the head
 * @v: the ring
 *
 * Walks past slots retired for their lap (a head left stale by a reader
 * that died, or stopped, before helping it). Bounded by the capacity.
 *
 * Return: 1 for a FULL head slot (a reader may claim it), -EBUSY for a
 * READING one (another reader is in it: its rest, or the writes behind
 * it, are for the readers after it), else 0 (nothing there yet).
 */
static inline int chan_ring_stream_head(const struct chan_ring_view *v)
{
	__u64 pos = chan_load_acquire(&v->hdr->head);
	__u32 n;

	for (n = 0; n <= v->mask + 1; n++, pos++) {
		__u64 st = chan_load_acquire(&chan_ring_slot(v, pos)->state);
		__s64 d = chan_lap_diff(chan_slot_lap(st),
					chan_ring_lap(v, pos));
		__u32 phase = chan_slot_phase(st);

		if (d < 0)
			return 0;
		if (d == 0) {
			if (phase == CHAN_SLOT_FULL)
				return 1;
			return phase == CHAN_SLOT_READING ? -EBUSY : 0;
		}
	}
	return 0;
}

/**
 * chan_ring_stream_can_recv() - has a stream bytes at its head?
 * @v: the ring
 *
 * A FULL head slot, or a READING one (chan_ring_stream_head()).
 *
 * Return: true if so.
 */
static inline bool chan_ring_stream_can_recv(const struct chan_ring_view *v)
{
	return chan_ring_stream_head(v) != 0;
}

/**
 * chan_ring_can_send() - would chan_ring_claim_send() find a free slot?
 * @v: the ring
 *
 * Walks from the tail over slots already claimed for their lap, without
 * moving any cursor. Bounded by the capacity.
 *
 * Return: true if a slot is free for the next send.
 */
static inline bool chan_ring_can_send(const struct chan_ring_view *v)
{
	__u64 pos = chan_load_acquire(&v->hdr->tail);
	__u32 n;

	/* capacity + 1 positions: a cursor left stale by a claimant that
	 * died before helping it may point at a slot already retired, which
	 * is then free (or full) again one lap on.
	 */
	for (n = 0; n <= v->mask + 1; n++, pos++) {
		__u64 st = chan_load_acquire(&chan_ring_slot(v, pos)->state);
		__s64 d = chan_lap_diff(chan_slot_lap(st),
					chan_ring_lap(v, pos));

		if (d < 0)
			return false;
		if (d == 0 && chan_slot_phase(st) == CHAN_SLOT_EMPTY)
			return true;
	}
	return false;
}

/**
 * chan_ring_can_recv() - would chan_ring_claim_recv() find a message?
 * @v: the ring
 *
 * The counterpart of chan_ring_can_send(), walking from the head.
 *
 * Return: true if a message (or tombstone) is ready to be claimed.
 */
static inline bool chan_ring_can_recv(const struct chan_ring_view *v)
{
	__u64 pos = chan_load_acquire(&v->hdr->head);
	__u32 n;

	/* capacity + 1 positions: a cursor left stale by a claimant that
	 * died before helping it may point at a slot already retired, which
	 * is then free (or full) again one lap on.
	 */
	for (n = 0; n <= v->mask + 1; n++, pos++) {
		__u64 st = chan_load_acquire(&chan_ring_slot(v, pos)->state);
		__s64 d = chan_lap_diff(chan_slot_lap(st),
					chan_ring_lap(v, pos));
		__u32 phase = chan_slot_phase(st);

		if (d == 0 && phase == CHAN_SLOT_FULL)
			return true;
		if (d < 0 || (d == 0 && phase != CHAN_SLOT_READING))
			return false;
	}
	return false;
}

/**
 * chan_ring_depth() - slots claimed by producers and not yet by consumers
 * @v: the ring
 *
 * Clamped to [0, capacity] since the cursors may be read mid-update (or be
 * garbage in a corrupted mapped ring).
 *
 * Return: the number of slots between the cursors.
 */
static inline __u32 chan_ring_depth(const struct chan_ring_view *v)
{
	__u64 head = chan_load_acquire(&v->hdr->head);
	__u64 tail = chan_load_acquire(&v->hdr->tail);
	__s64 d = (__s64)(tail - head);

	if (d < 0)
		return 0;
	if (d > (__s64)v->mask + 1)
		return v->mask + 1;
	return (__u32)d;
}

/**
 * struct chan_ring_repair_counts - what chan_ring_repair() did
 * @tombstoned: WRITING slots turned into FULL tombstones
 * @reader_drops: READING slots holding a real message, returned EMPTY
 *	(the message is lost with its reader)
 * @skipped: READING slots holding a tombstone, returned EMPTY
 * @handed_back: (streams) READING slots returned FULL, their offset kept
 */
struct chan_ring_repair_counts {
	__u32 tombstoned;
	__u32 reader_drops;
	__u32 skipped;
	__u32 handed_back;
};

/*
 * A cursor left at a repaired slot by its dead claimant, which died before
 * it helped the cursor on: move it past, as the claimant would have. Only
 * a cursor at exactly that slot and lap moves, by a CAS from the position
 * read, so a cursor that moved meanwhile is left alone. Without this a
 * quiet ring would keep the stale cursor (until the next claim helps it),
 * and the counts taken from the cursors would be one short.
 */
static inline void chan_ring_repair_help(const struct chan_ring_view *v,
					 __u64 *cursor, __u64 lap, __u32 i)
{
	__u64 pos = chan_load_acquire(cursor);

	if ((pos & v->mask) == i && chan_ring_lap(v, pos) == lap)
		chan_ring_help(cursor, pos);
}

/*
 * A dead writer's WRITING slot @s at position @i (state @st): a FULL
 * tombstone of its lap, which receivers retire and skip; the tail is
 * helped past it. Shared by the message and the stream repairs.
 */
static inline void
chan_ring_repair_writing(const struct chan_ring_view *v, struct chan_slot *s,
			 __u64 st, __u32 owner, __u32 i,
			 struct chan_ring_repair_counts *c)
{
	__u64 lap = chan_slot_lap(st);

	chan_store(&s->len, 0U);
	chan_store(&s->flags, CHAN_SLOT_TOMBSTONE);
	/* Full barrier CAS: orders the tombstone flag before FULL, pairing
	 * with the acquire of the receivers' claims.
	 */
	if (chan_cas(&s->state, &st,
		     chan_slot_state(lap, CHAN_SLOT_FULL, owner))) {
		c->tombstoned++;
		chan_ring_repair_help(v, &v->hdr->tail, lap, i);
	}
}

/**
 * chan_ring_repair_range() - release the slots a dead endpoint holds in
 *	part of the ring
 * @v: the ring
 * @owner: the dead endpoint's token (never CHAN_OWNER_NONE or _KERNEL)
 * @first: index of the first slot to look at
 * @count: slots to look at (first + count <= capacity)
 * @c: counts of what was done, added to
 *
 * WRITING slots become FULL tombstones that receivers skip; READING slots
 * become EMPTY for the next lap. Each move is a CAS from the exact state
 * seen, so it cannot undo anyone else's progress. A cursor its claimant
 * left at the slot is moved on (chan_ring_repair_help()).
 */
static inline void chan_ring_repair_range(const struct chan_ring_view *v,
					  __u32 owner, __u32 first,
					  __u32 count,
					  struct chan_ring_repair_counts *c)
{
	__u32 i;

	for (i = first; i - first < count; i++) {
		struct chan_slot *s = chan_ring_slot(v, i);
		__u64 st = chan_load_acquire(&s->state);
		__u64 lap = chan_slot_lap(st);

		if (chan_slot_owner(st) != owner)
			continue;
		if (chan_slot_phase(st) == CHAN_SLOT_WRITING) {
			chan_ring_repair_writing(v, s, st, owner, i, c);
		} else if (chan_slot_phase(st) == CHAN_SLOT_READING) {
			bool tomb = chan_slot_is_tombstone(s);

			if (chan_cas(&s->state, &st,
				     chan_slot_state(lap + 1, CHAN_SLOT_EMPTY,
						     CHAN_OWNER_NONE))) {
				if (tomb)
					c->skipped++;
				else
					c->reader_drops++;
				chan_ring_repair_help(v, &v->hdr->head, lap, i);
			}
		}
	}
}

/**
 * chan_ring_repair_stream() - release every slot a dead endpoint holds in
 *	a stream's ring
 * @v: the ring (CHAN_CREATE_STREAM)
 * @owner: the dead endpoint's token (never CHAN_OWNER_NONE or _KERNEL)
 * @c: counts of what was done, added to (@handed_back for READING slots)
 *
 * WRITING slots become FULL tombstones, as on a message ring. A READING
 * slot goes back to FULL of its lap with the offset as stored: the bytes
 * the dead reader took and did not record come out again, none is lost,
 * and the head is not moved. Then the head is helped past a slot retired
 * for its lap, since the dead reader may have retired the head slot and
 * died before it helped the head on.
 */
static inline void chan_ring_repair_stream(const struct chan_ring_view *v,
					   __u32 owner,
					   struct chan_ring_repair_counts *c)
{
	__u64 pos, hst;
	__u32 i;

	for (i = 0; i <= v->mask; i++) {
		struct chan_slot *s = chan_ring_slot(v, i);
		__u64 st = chan_load_acquire(&s->state);
		__u64 lap = chan_slot_lap(st);

		if (chan_slot_owner(st) != owner)
			continue;
		if (chan_slot_phase(st) == CHAN_SLOT_WRITING) {
			chan_ring_repair_writing(v, s, st, owner, i, c);
		} else if (chan_slot_phase(st) == CHAN_SLOT_READING) {
			/* Full barrier CAS: the flags stay as stored. */
			if (chan_cas(&s->state, &st,
				     chan_slot_state(lap, CHAN_SLOT_FULL,
						     owner)))
				c->handed_back++;
		}
	}
	pos = chan_load_acquire(&v->hdr->head);
	hst = chan_load_acquire(&chan_ring_slot(v, pos)->state);
	if (chan_lap_diff(chan_slot_lap(hst), chan_ring_lap(v, pos)) > 0)
		chan_ring_help(&v->hdr->head, pos);
}

/**
 * chan_ring_repair() - release every slot a dead endpoint still holds
 * @v: the ring
 * @owner: the dead endpoint's token (never CHAN_OWNER_NONE or _KERNEL)
 * @c: counts of what was done, added to
 */
static inline void chan_ring_repair(const struct chan_ring_view *v,
				    __u32 owner,
				    struct chan_ring_repair_counts *c)
{
	chan_ring_repair_range(v, owner, 0, v->mask + 1, c);
}

#endif /* _CHAN_RING_H */
