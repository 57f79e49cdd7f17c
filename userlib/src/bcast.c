// SPDX-License-Identifier: MIT
/*
 * The fast path of a mapped broadcast receiver (docs/fast-path.md,
 * "Broadcast channels"): the ring is mapped read-only and written by the
 * kernel alone, one slot per message, seqlock-style; the receiver's
 * cursor and counts are at the start of its own cursor page (struct
 * chan_bcast_cursor), which no other receiver maps. Nothing here writes
 * shared memory but that page.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "libchan_private.h"
#include "chan_ring.h"

/* Retries of one receive (each means another thread moved the cursor). */
#define CHAN_BCAST_RETRIES	64

/*
 * The slot at @c was overwritten: the oldest message held is the tail
 * minus the capacity, or at least the one after @c (a sender overwriting
 * @c has not moved the tail past it yet). As the kernel's path, which
 * waits for the sender, would count it.
 */
static uint64_t chan_bcast_oldest(const struct chan_ring_view *v, uint64_t c)
{
	uint64_t t = chan_load_acquire(&v->hdr->tail);
	uint64_t cap = (uint64_t)v->mask + 1;

	return t - c > cap ? t - cap : c + 1;
}

int chan__bcast_recv(const struct chan_ring_view *v,
		     struct chan_bcast_cursor *bc, void *buf, size_t cap,
		     uint32_t *msg_len, uint64_t *lost)
{
	__u64 *cur = &bc->pos;
	uint64_t ring_cap = (uint64_t)v->mask + 1;
	unsigned int n;

	for (n = 0; n < CHAN_BCAST_RETRIES; n++) {
		__u64 c = chan_load_acquire(cur);
		/* Acquire: pairs with the kernel's release of the tail. */
		uint64_t t = chan_load_acquire(&v->hdr->tail);
		uint64_t st, st2, o;
		struct chan_slot *s;
		uint32_t len;

		if (c == t)
			return CHAN_BCAST_EMPTY;
		if (c > t)
			return CHAN_BCAST_SLOW;	/* scribbled: the kernel clamps */
		if (t - c > ring_cap) {
			o = t - ring_cap;
			goto overrun;
		}
		s = chan_ring_slot(v, c);
		/* Acquire: the payload is read after the state. */
		st = chan_load_acquire(&s->state);
		if (chan_slot_phase(st) != CHAN_SLOT_FULL ||
		    chan_slot_lap(st) != chan_ring_lap(v, c)) {
			if (chan_lap_diff(chan_slot_lap(st),
					  chan_ring_lap(v, c)) <= 0)
				return CHAN_BCAST_SLOW;
			o = chan_bcast_oldest(v, c);
			goto overrun;
		}
		len = chan_load(&s->len);
		if (len > v->msg_size)
			len = v->msg_size;
		if (len <= cap)
			memcpy(buf, s->data, len);
		/* The copy before the second look at the state. */
		atomic_thread_fence(memory_order_acquire);
		st2 = chan_load(&s->state);
		if (st2 != st) {
			o = chan_bcast_oldest(v, c);
			goto overrun;
		}
		*msg_len = len;
		if (len > cap)
			return -EMSGSIZE;
		/* Another thread of this receiver took it first: again. */
		if (!chan_cas(cur, &c, c + 1))
			continue;
		/* For INFO and fdinfo (the kernel clamps what it reads). */
		__atomic_fetch_add(&bc->received, 1, __ATOMIC_RELAXED);
		return 0;
overrun:
		if (!chan_cas(cur, &c, o))
			continue;
		*lost = o - c;
		__atomic_fetch_add(&bc->lost, *lost, __ATOMIC_RELAXED);
		return -ENOBUFS;
	}
	return CHAN_BCAST_SLOW;
}
