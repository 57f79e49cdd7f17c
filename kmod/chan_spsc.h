/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The single-producer single-consumer fast path of a CHAN_CREATE_SPSC
 * ring: what libchan's one sender and one receiver run instead of the
 * claims of chan_ring.h, on the same slots and cursors. The kernel never
 * runs it (its paths, and the repair of a dead mapping, are chan_ring.h's
 * on every ring); it lives here, beside chan_ring.h, so that the host
 * tests and the model (models/spsc.pml) read the same code.
 *
 * The channel has one sender and one receiver endpoint (the kernel
 * refuses a second: EBUSY), and a handle is used by one thread at a time,
 * so each cursor has one writer: the sender's fast path or its own
 * kernel path (never both at once), and the kernel's repair of a dead
 * party's mapping, which only moves a cursor its dead writer left behind
 * to where the writer was storing it anyway (map.c). No compare-and-swap:
 *
 *  sender:   slot at tail EMPTY for tail's lap? (acquire) write payload,
 *            len, flags; state = FULL (release); tail = pos + 1 (release)
 *  receiver: slot at head FULL for head's lap? (acquire) copy;
 *            state = EMPTY for the next lap (release); head = pos + 1
 *            (release)
 *
 * The slot's state word is still the truth, as on every ring: the sender
 * never looks at the head, nor the receiver at the tail, so a cursor left
 * behind by a kernel path or a dead party never makes them overwrite or
 * re-read a slot. Whatever else they find (a slot WRITING or READING for
 * the lap, a cursor behind) is left to chan_ring.h's claims, which help
 * cursors on as for any ring.
 *
 * Death: the sender stores nothing before FULL, so a sender killed
 * earlier sent nothing; killed between FULL and the tail store, its
 * message is there (the receiver does not need the tail) and only the
 * tail is behind. The receiver stores nothing before EMPTY, so a receiver
 * killed earlier took nothing (the message stays for the next receive,
 * never lost, never handed out twice: a receive returns only after its
 * EMPTY store); killed between EMPTY and the head store, only the head is
 * behind. The repair moves such a cursor on (chan_map_settle()).
 *
 * A mapper that writes anything anywhere can spoil only the messages of
 * its own channel, as on every ring: the kernel reads these words with
 * the bounds of chan_ring.h and trusts nothing else.
 */
#ifndef _CHAN_SPSC_H
#define _CHAN_SPSC_H

#include "chan_ring.h"

/**
 * chan_spsc_claim_send() - the slot at the tail, if the fast path may
 *	write it
 * @v: the ring
 * @posp: set to the position, or to -EAGAIN (full) or -EINPROGRESS (a
 *	state the fast path leaves to chan_ring_claim_send())
 *
 * Nothing is stored: the slot is the sender's until it publishes it with
 * chan_spsc_publish().
 *
 * Return: the slot, or NULL.
 */
static inline struct chan_slot *
chan_spsc_claim_send(const struct chan_ring_view *v, __s64 *posp)
{
	/* Our own cursor: only we (or our own kernel path) store it. */
	__u64 pos = chan_load(&v->hdr->tail);
	struct chan_slot *s = chan_ring_slot(v, pos);
	/* Acquire: pairs with the retire's release (the reader is done). */
	__u64 st = chan_load_acquire(&s->state);
	__u64 lap = chan_ring_lap(v, pos);
	__s64 d = chan_lap_diff(chan_slot_lap(st), lap);

	if (d == 0 && chan_slot_phase(st) == CHAN_SLOT_EMPTY) {
		*posp = (__s64)pos;
		return s;
	}
	*posp = d < 0 ? -EAGAIN : -EINPROGRESS;
	return NULL;
}

/**
 * chan_spsc_publish() - publish the slot chan_spsc_claim_send() gave
 * @v: the ring
 * @s: the slot
 * @pos: its position
 * @len: payload length, already written to s->data
 * @owner: the sender's owner token
 */
static inline void chan_spsc_publish(const struct chan_ring_view *v,
				     struct chan_slot *s, __u64 pos, __u32 len,
				     __u32 owner)
{
	chan_ring_publish(v, s, pos, len, owner);
	/* Release: after FULL, so the tail never passes an unpublished slot. */
	chan_store_release(&v->hdr->tail, pos + 1);
}

/**
 * chan_spsc_claim_recv() - the message at the head, if the fast path may
 *	take it
 * @v: the ring
 * @max_len: largest payload the caller can take
 * @posp: set to the position, or to -EAGAIN (nothing there), -EMSGSIZE,
 *	or -EINPROGRESS (a state left to chan_ring_claim_recv())
 * @lenp: set to the length (also on -EMSGSIZE); 0 for a tombstone
 *
 * Nothing is stored: the message stays FULL until chan_spsc_retire().
 * The sender cannot touch a FULL slot, so the length read here is the
 * message's.
 *
 * Return: the slot, or NULL.
 */
static inline struct chan_slot *
chan_spsc_claim_recv(const struct chan_ring_view *v, __u32 max_len,
		     __s64 *posp, __u32 *lenp)
{
	__u64 pos = chan_load(&v->hdr->head);
	struct chan_slot *s = chan_ring_slot(v, pos);
	/* Acquire: pairs with the release in chan_ring_publish(). */
	__u64 st = chan_load_acquire(&s->state);
	__s64 d = chan_lap_diff(chan_slot_lap(st), chan_ring_lap(v, pos));
	__u32 phase = chan_slot_phase(st);
	__u32 len;

	if (d == 0 && phase == CHAN_SLOT_FULL) {
		len = chan_load(&s->len);
		if (len > v->msg_size)
			len = v->msg_size;
		if (chan_load(&s->flags) & CHAN_SLOT_TOMBSTONE)
			len = 0;
		*lenp = len;
		if (len > max_len) {
			*posp = -EMSGSIZE;
			return NULL;
		}
		*posp = (__s64)pos;
		return s;
	}
	/* Empty, or being written, for this lap (or an older one). */
	if (d < 0 || (d == 0 && phase != CHAN_SLOT_READING))
		*posp = -EAGAIN;
	else
		*posp = -EINPROGRESS;
	return NULL;
}

/**
 * chan_spsc_retire() - hand a slot chan_spsc_claim_recv() gave back
 * @v: the ring
 * @s: the slot
 * @pos: its position
 */
static inline void chan_spsc_retire(const struct chan_ring_view *v,
				    struct chan_slot *s, __u64 pos)
{
	chan_ring_retire(v, s, pos);
	/* Release: after EMPTY, so the head never passes an unread slot. */
	chan_store_release(&v->hdr->head, pos + 1);
}

#endif /* _CHAN_SPSC_H */
