/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * A compact single-producer single-consumer ring: the ring of a channel
 * created CHAN_CREATE_SPSC | CHAN_CREATE_MAPPABLE (docs/spsc-compact.md;
 * models/spsc2.pml checks it; the layout is the uapi's). The kernel's
 * paths (io.c) and libchan's fast path run it; so do the host tests
 * (selftests/host/test_spsc2.c) and ring_bench's chan-spsc-compact rows.
 * The atomics are chan_ring.h's shim.
 *
 * The shared words are the two cursors and, per position, a length and
 * a payload slot. There is no per-slot state word: who may touch a slot
 * follows from the cursors alone.
 *
 *  tail    written by the producer only: positions below it are sent
 *  head    written by the consumer only: positions below it are received
 *  lens    capacity __u32 lengths, padded to whole cache lines
 *  slots   capacity payload slots of stride bytes: msg_size rounded up to 8
 *
 * Payloads are packed, not rounded to a cache line, so that small messages
 * share lines (eight 8-byte messages per line) and the consumer's misses
 * are amortised over them, and a 64-byte message on a line-aligned slot is
 * exactly one line. The lengths are apart from the payloads, and a length
 * is stored only when it differs from the one already at its index: a
 * channel whose messages keep their sizes writes each length once, and
 * after that the lengths' lines are only read, shared by both caches,
 * never in flight. A length beside its payload (an 8-byte slot header)
 * put a second line in flight for every 64-byte message; in ring_bench
 * this layout took 21.5-24.7 ns per 64-byte message against 31.9-33.0
 * for that one, and 3.8-3.9 against 5.6-5.8 at 8 bytes
 * (docs/spsc-compact.md).
 *
 *  send: pos = tail; room unless pos - head_cache == capacity, then reload
 *        head (acquire: the consumer is done with the slot we overwrite);
 *        write payload, and the length if it changed; tail = pos + 1
 *        (release)
 *  recv: pos = head; data unless tail_cache == pos, then reload tail
 *        (acquire: pairs with the send's release); read length and
 *        payload; head = pos + 1 (release: the reads are done)
 *
 * Each side keeps the other's cursor in its own private memory
 * (head_cache, tail_cache), a lower bound of the real one since cursors
 * only grow, and reads the shared one only when the cached one says full
 * (empty). Its own cursor it reads from the shared word every time, so
 * that a kernel path on the same endpoint, which moves the same cursor,
 * needs no hand-over.
 *
 * Death: a party stores exactly one word that the other acts on, its
 * cursor, and stores it last. A producer killed before its tail store sent
 * nothing (the payload and length it wrote are beyond the tail, rewritten
 * by the next send); after it, the message was sent whole. A consumer
 * killed before its head store took nothing: a receive returns only after
 * that store, so the message is still there for the next receive, never
 * lost nor handed out twice; after it, the message was received. No
 * cursor is ever left behind, so no repair is needed on this ring.
 *
 * Trust: another party can write every shared word. Each is read once per
 * decision; tail - head is checked to lie in [0, capacity] (else -EIO);
 * indices are masked; a length is clamped to msg_size. So a hostile
 * mapping can make these functions return nonsense lengths, -EIO or
 * -EAGAIN, never touch memory outside the ring nor loop: there is no loop.
 */
#ifndef _CHAN_SPSC_RING_H
#define _CHAN_SPSC_RING_H

#include "chan_ring.h"

/* The layout (CHAN_SPSC_LENS_BYTES()) is the uapi's. */

/* Bytes per payload slot: msg_size rounded up to 8, at least 8. */
static inline __u32 chan_spsc_ring_stride(__u32 msg_size)
{
	return msg_size ? (msg_size + 7U) & ~7U : 8U;
}

/* Bytes of lengths and slots for @capacity messages of @msg_size. */
static inline __u64 chan_spsc_ring_size(__u32 capacity, __u32 msg_size)
{
	return CHAN_SPSC_LENS_BYTES((__u64)capacity) +
	       (__u64)capacity * chan_spsc_ring_stride(msg_size);
}

/**
 * struct chan_spsc_ring - a private, trusted description of the ring
 * @tail: the shared producer cursor (chan_ring_hdr.tail)
 * @head: the shared consumer cursor (chan_ring_hdr.head)
 * @lens: the shared lengths, one per slot
 * @slots: the shared payload slots
 * @mask: capacity - 1
 * @stride: chan_spsc_ring_stride(@msg_size)
 * @msg_size: largest payload
 *
 * Built from the owner's own copy of the geometry, never from the shared
 * header.
 */
struct chan_spsc_ring {
	__u64 *tail;
	__u64 *head;
	__u32 *lens;
	unsigned char *slots;
	__u32 mask;
	__u32 stride;
	__u32 msg_size;
};

/**
 * chan_spsc_ring_init() - describe a ring laid out after a header
 * @r: the description to fill
 * @hdr: the ring's header (its tail and head)
 * @area: what follows the header (its slots_offset), cache-line aligned:
 *	the lengths, then the payload slots
 * @capacity: a power of two
 * @msg_size: largest payload
 */
static inline void chan_spsc_ring_init(struct chan_spsc_ring *r,
				       struct chan_ring_hdr *hdr, void *area,
				       __u32 capacity, __u32 msg_size)
{
	r->tail = &hdr->tail;
	r->head = &hdr->head;
	r->lens = area;
	r->slots = (unsigned char *)area + CHAN_SPSC_LENS_BYTES(capacity);
	r->mask = capacity - 1;
	r->stride = chan_spsc_ring_stride(msg_size);
	r->msg_size = msg_size;
}

/* Position @pos's payload slot. */
static inline unsigned char *chan_spsc_ring_slot(const struct chan_spsc_ring *r,
						 __u64 pos)
{
	return r->slots + (size_t)(pos & r->mask) * r->stride;
}

/* Position @pos's length. */
static inline __u32 *chan_spsc_ring_len(const struct chan_spsc_ring *r,
					__u64 pos)
{
	return &r->lens[pos & r->mask];
}

/**
 * chan_spsc_ring_send_begin() - room for the next message?
 * @r: the ring
 * @head_cache: the producer's private copy of the head
 * @posp: set to the position to write
 *
 * Nothing is stored in the ring: the payload returned is the producer's
 * until chan_spsc_ring_send_end() publishes it.
 *
 * Return: the payload to write (at most msg_size bytes), or NULL with
 * *posp set to -EAGAIN (full) or -EIO (the cursors are inconsistent: the
 * mapping was written by someone else).
 */
static inline unsigned char *
chan_spsc_ring_send_begin(const struct chan_spsc_ring *r, __u64 *head_cache,
			  __s64 *posp)
{
	/* Our own cursor: only we (or our own kernel path) store it. */
	__u64 pos = chan_load(r->tail);
	__u64 cap = (__u64)r->mask + 1;
	__u64 head = *head_cache;

	/* Unsigned: a head past the tail is as inconsistent as a full+1. */
	if (pos - head >= cap) {
		/* Acquire: pairs with the release in chan_spsc_ring_recv_end(),
		 * so the consumer's reads of the payload we reuse are done.
		 */
		head = chan_load_acquire(r->head);
		if (pos - head > cap) {
			*posp = -EIO;
			return NULL;
		}
		*head_cache = head;
		if (pos - head == cap) {
			*posp = -EAGAIN;
			return NULL;
		}
	}
	*posp = (__s64)pos;
	return chan_spsc_ring_slot(r, pos);
}

/**
 * chan_spsc_ring_send_end() - publish the message written at @pos
 * @r: the ring
 * @pos: the position chan_spsc_ring_send_begin() gave
 * @len: its length, at most msg_size
 */
static inline void chan_spsc_ring_send_end(const struct chan_spsc_ring *r,
					   __u64 pos, __u32 len)
{
	__u32 *lenp = chan_spsc_ring_len(r, pos);

	/*
	 * Only if it changed: an unchanged length leaves its line shared
	 * with the consumer. The comparison is with the value in the ring,
	 * whatever stored it: us or our kernel path (published by an
	 * earlier tail store, or not, if a producer died between its
	 * length and its tail store), or another party's scribble, read
	 * once and at worst costing a store.
	 */
	if (chan_load(lenp) != len)
		chan_store(lenp, len);
	/* Release: the payload and length before the tail that shows them. */
	chan_store_release(r->tail, pos + 1);
}

/**
 * chan_spsc_ring_recv_begin() - the next message, if there is one
 * @r: the ring
 * @tail_cache: the consumer's private copy of the tail
 * @max_len: largest payload the caller can take
 * @posp: set to the position, or to -EAGAIN (empty), -EMSGSIZE or -EIO
 *	(inconsistent cursors)
 * @lenp: set to the length, clamped to msg_size (also on -EMSGSIZE)
 *
 * Nothing is stored: the message stays until chan_spsc_ring_recv_end().
 * The producer does not write a position below the tail before the head
 * passes it, so the length read here is the message's (in an honest ring).
 *
 * Return: the payload, or NULL.
 */
static inline const unsigned char *
chan_spsc_ring_recv_begin(const struct chan_spsc_ring *r, __u64 *tail_cache,
			  __u32 max_len, __s64 *posp, __u32 *lenp)
{
	__u64 pos = chan_load(r->head);
	__u64 cap = (__u64)r->mask + 1;
	__u64 tail = *tail_cache;
	__u32 len;

	/* Unsigned: catches tail == pos (empty) and tail - pos > cap. */
	if (tail - pos - 1 >= cap) {
		/* Acquire: pairs with the release in chan_spsc_ring_send_end(),
		 * so the payload and length below the tail are visible.
		 */
		tail = chan_load_acquire(r->tail);
		if (tail - pos > cap) {
			*posp = -EIO;
			return NULL;
		}
		*tail_cache = tail;
		if (tail == pos) {
			*posp = -EAGAIN;
			return NULL;
		}
	}
	len = chan_load(chan_spsc_ring_len(r, pos));
	if (len > r->msg_size)
		len = r->msg_size;
	*lenp = len;
	if (len > max_len) {
		*posp = -EMSGSIZE;
		return NULL;
	}
	*posp = (__s64)pos;
	return chan_spsc_ring_slot(r, pos);
}

/**
 * chan_spsc_ring_recv_end() - hand the message at @pos back
 * @r: the ring
 * @pos: the position chan_spsc_ring_recv_begin() gave
 *
 * The receive happened here, not before: a consumer killed earlier took
 * nothing.
 */
static inline void chan_spsc_ring_recv_end(const struct chan_spsc_ring *r,
					   __u64 pos)
{
	/* Release: our reads of the payload before the head that frees it. */
	chan_store_release(r->head, pos + 1);
}

/**
 * chan_spsc_ring_depth() - messages in the ring, for INFO and poll
 * @r: the ring
 *
 * Return: tail - head clamped to [0, capacity] (a scribbled pair of
 * cursors reads as empty or full, never more).
 */
static inline __u32 chan_spsc_ring_depth(const struct chan_spsc_ring *r)
{
	/* Head first: both only grow, so an honest pair never reads < 0. */
	__u64 head = chan_load_acquire(r->head);
	__u64 tail = chan_load_acquire(r->tail);
	__s64 d = (__s64)(tail - head);

	if (d < 0)
		return 0;
	if (d > (__s64)r->mask + 1)
		return r->mask + 1;
	return (__u32)d;
}

#endif /* _CHAN_SPSC_RING_H */
