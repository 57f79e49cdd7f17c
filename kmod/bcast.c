// SPDX-License-Identifier: GPL-2.0
/*
 * Broadcast channels (CHAN_CREATE_BROADCAST): every receiver endpoint
 * gets every message sent after it was opened.
 *
 * The messages live in the channel's ring memory, one per slot, at
 * position & mask; the kernel alone writes them. Senders write a slot and move the tail under the
 * channel's broadcast lock, taken for writing. Each receiver (an endpoint,
 * or a kernel handle) has a cursor of its own, struct chan_bcast_rx: it
 * copies the slot at its cursor into kernel memory under the lock taken
 * for reading, so receivers read side by side and a sender never changes
 * a slot under one, then moves its cursor by cmpxchg (threads sharing the
 * receiver take each message once between them). Nothing is copied to or
 * from user memory under the lock: a receiver holds it for one memcpy of
 * at most msg_size bytes, so it can never hold senders back longer than
 * that.
 *
 * Lossy (the default): a sender overwrites the slot of position
 * tail - capacity whoever has not read it. A receiver whose cursor is
 * more than capacity behind the tail has lost the oldest messages: its
 * next receive moves the cursor to the oldest still held and fails with
 * -ENOBUFS, telling how many it missed.
 *
 * Lossless (CHAN_CREATE_LOSSLESS): a sender waits while the slowest
 * receiver is capacity behind. A receiver whose move ends that (it was
 * capacity behind), or that leaves, bumps @gen and wakes the senders. A
 * sender that found the ring full notes @gen under the lock and sleeps
 * only if it has not moved since (a full barrier between its queueing and
 * that look, and between the bump and the receiver's look at the queue).
 *
 * Mapped (CHAN_CREATE_MAPPABLE): receivers map the
 * ring read-only and read it without a system call, each at a cursor in
 * a page of its own (its cursor page, mapped writable by that endpoint
 * alone), which then is the receiver's cursor for the kernel paths too.
 * A sender writes a slot seqlock-style: WRITING of the position's lap,
 * the payload, FULL of that lap (release), then the shared tail
 * (release). A fast-path receiver copies a slot it saw FULL of its
 * cursor's lap and checks the state again; any change means a sender
 * overwrote it, an overrun (docs/fast-path.md). The cursor page is the
 * process's to scribble on: the kernel reads it once per decision,
 * clamps it to the tail and moves it by cmpxchg, a bounded number of
 * times. Lossless: a sender that will wait counts itself in the shared
 * kstate.send_waiters; a fast-path receiver that moved its cursor and
 * sees the count rings CHAN_IOC_WAKE, which bumps @gen
 * (chan_bcast_doorbell()).
 *
 * Every wake-up here is wake_up_all(): a message is for every receiver,
 * and room made by the slowest receiver may be for any sender.
 */
#include <linux/mm.h>
#include <linux/rwsem.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/wait.h>
#include "chan_private.h"
#include "chan_trace.h"

/* A try found a message longer than what is known to be writable. */
#define CHAN_BCAST_FAULT_IN	1

/* Retries of one receive, so that a scribbled cursor cannot spin us. */
#define CHAN_BCAST_RETRY_MAX	1024

/**
 * chan_bcast_init() - give a new broadcast channel its state
 * @ch: the channel, its flags set
 *
 * Return: 0, or -ENOMEM.
 */
int chan_bcast_init(struct chan *ch)
{
	struct chan_bcast *b;

	if (!chan_is_bcast(ch))
		return 0;
	b = kzalloc(sizeof(*b), GFP_KERNEL_ACCOUNT);
	if (!b)
		return -ENOMEM;
	init_rwsem(&b->lock);
	INIT_LIST_HEAD(&b->rxs);
	b->lossless = ch->flags & CHAN_CREATE_LOSSLESS;
	atomic64_set(&b->delivered, 0);
	atomic64_set(&b->lost, 0);
	atomic_set(&b->gen, 0);
	ch->bcast = b;
	return 0;
}

void chan_bcast_free(struct chan *ch)
{
	/* Every receiver left: each held a reference on the channel. */
	kfree(ch->bcast);
	ch->bcast = NULL;
}

static u32 chan_bcast_capacity(struct chan *ch)
{
	return ch->ring.view.mask + 1;
}

static u64 chan_bcast_tail(struct chan_bcast *b)
{
	/* Acquire: pairs with the release of a send (the slot before it). */
	return smp_load_acquire(&b->tail);
}

/*
 * A receiver's cursor, read once: its own word, or the word its process
 * may write (then clamped to @tail: it cannot be ahead of the senders).
 */
static u64 chan_bcast_pos(struct chan_bcast_rx *rx, u64 tail)
{
	u64 pos = READ_ONCE(*READ_ONCE(rx->cur));

	return pos > tail ? tail : pos;
}

/**
 * chan_bcast_rx_pos() - a receiver's cursor, for fdinfo
 * @ch: a broadcast channel
 * @rx: the receiver's cursor
 *
 * Return: where it reads next (at most the tail).
 */
u64 chan_bcast_rx_pos(struct chan *ch, struct chan_bcast_rx *rx)
{
	if (!rx->cur)
		return 0;
	return chan_bcast_pos(rx, chan_bcast_tail(ch->bcast));
}

/* The slowest receiver's cursor (@tail with none); lock held. */
static u64 chan_bcast_min(struct chan_bcast *b, u64 tail)
{
	struct chan_bcast_rx *rx;
	u64 min = tail;

	list_for_each_entry(rx, &b->rxs, node) {
		u64 pos = chan_bcast_pos(rx, tail);

		if (pos < min)
			min = pos;
	}
	return min;
}

/* Wake every waiter (and poller) of a direction, if any. */
static void chan_bcast_wake(struct chan *ch, enum chan_dir dir)
{
	wait_queue_head_t *wq = &ch->wq[dir];

	if (wq_has_sleeper(wq)) {
		trace_chan_wake(ch, dir, 0);
		wake_up_all(wq);
	}
}

/*
 * What a receiver's fast path says it took and missed, read once each and
 * clamped to the tail (a process can only misstate its own counts, and
 * not beyond what was sent). Zero without a cursor page.
 */
static void chan_bcast_fast_counts(struct chan_bcast_rx *rx, u64 tail,
				   u64 *received, u64 *lost)
{
	struct chan_bcast_cursor *bc;
	struct page *page = READ_ONCE(rx->cpage);

	*received = *lost = 0;
	if (!page)
		return;
	bc = page_address(page);
	*received = min(READ_ONCE(bc->received), tail);
	*lost = min(READ_ONCE(bc->lost), tail);
}

/**
 * chan_bcast_rx_lost() - what a receiver missed, both paths, for fdinfo
 * @ch: a broadcast channel
 * @rx: the receiver's cursor
 *
 * Return: its losses reported by the kernel plus those its fast path
 * reported (clamped).
 */
u64 chan_bcast_rx_lost(struct chan *ch, struct chan_bcast_rx *rx)
{
	u64 received, lost;

	chan_bcast_fast_counts(rx, chan_bcast_tail(ch->bcast), &received,
			       &lost);
	return atomic64_read(&rx->lost) + lost;
}

/* A lossless sender may have room now: tell it. */
static void chan_bcast_room(struct chan *ch)
{
	atomic_inc(&ch->bcast->gen);
	chan_bcast_wake(ch, CHAN_DIR_SEND);
}

/**
 * chan_bcast_attach() - start a receiver's cursor at the tail
 * @ch: a broadcast channel
 * @rx: the receiver's cursor
 */
void chan_bcast_attach(struct chan *ch, struct chan_bcast_rx *rx)
{
	struct chan_bcast *b = ch->bcast;

	atomic64_set(&rx->lost, 0);
	rx->cpage = NULL;
	down_write(&b->lock);
	rx->pos = b->tail;
	rx->cur = &rx->pos;
	list_add_tail(&rx->node, &b->rxs);
	rx->attached = true;
	up_write(&b->lock);
}

/**
 * chan_bcast_detach() - a receiver leaves: it no longer holds senders back
 * @ch: a broadcast channel
 * @rx: the receiver's cursor (nothing happens if it was never attached)
 */
void chan_bcast_detach(struct chan *ch, struct chan_bcast_rx *rx)
{
	struct chan_bcast *b = ch->bcast;

	u64 received, lost;

	if (!rx->attached)
		return;
	down_write(&b->lock);
	list_del(&rx->node);
	rx->attached = false;
	/* The fast path's counts stay in the channel's. */
	chan_bcast_fast_counts(rx, b->tail, &received, &lost);
	atomic64_add(received, &b->delivered);
	atomic64_add(lost, &b->lost);
	up_write(&b->lock);
	if (b->lossless)
		chan_bcast_room(ch);
}

/**
 * chan_bcast_cursor_page() - give a receiver its cursor page
 * @ch: a mappable broadcast channel
 * @rx: the receiver's cursor, attached
 *
 * The first call moves the cursor into a zeroed page of its own, which
 * the receiver's process maps writable; later calls return the same page.
 * It stays the cursor (and allocated) until chan_bcast_rx_free().
 *
 * Return: the page, or NULL (no memory).
 */
struct page *chan_bcast_cursor_page(struct chan *ch, struct chan_bcast_rx *rx)
{
	struct chan_bcast *b = ch->bcast;
	struct page *page;

	if (READ_ONCE(rx->cpage))
		return rx->cpage;
	page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	if (!page)
		return NULL;
	down_write(&b->lock);
	if (rx->cpage) {
		__free_page(page);
	} else {
		struct chan_bcast_cursor *bc = page_address(page);
		u64 *cur = &bc->pos;

		*cur = rx->pos;
		/* Under the lock: no receive is between its read and cmpxchg. */
		WRITE_ONCE(rx->cpage, page);
		WRITE_ONCE(rx->cur, cur);
	}
	page = rx->cpage;
	up_write(&b->lock);
	return page;
}

/**
 * chan_bcast_rx_free() - free a detached receiver's cursor page, if any
 * @rx: the receiver's cursor
 *
 * Every mapping of the page holds a reference of its own.
 */
void chan_bcast_rx_free(struct chan_bcast_rx *rx)
{
	if (rx->cpage)
		put_page(rx->cpage);
	rx->cpage = NULL;
	rx->cur = &rx->pos;
}

/**
 * chan_bcast_destroyed() - note what the slowest receiver had not read
 * @ch: a broadcast channel just marked destroyed
 */
void chan_bcast_destroyed(struct chan *ch)
{
	struct chan_bcast *b = ch->bcast;

	down_write(&b->lock);
	b->discarded = min_t(u64, b->tail - chan_bcast_min(b, b->tail),
			     chan_bcast_capacity(ch));
	up_write(&b->lock);
}

/* One attempt to send; never sleeps with the task asleep. */
static int chan_bcast_try_send(struct chan_xfer *x, int *gen)
{
	struct chan *ch = x->ch;
	struct chan_bcast *b = ch->bcast;
	u32 state = chan_state(ch);
	struct chan_slot *s;
	u64 tail, min;

	if (state & CHAN_STATE_DESTROYED)
		return -EIDRM;
	if (state & CHAN_STATE_CLOSED)
		return -EPIPE;
	if (x->peer && (state & CHAN_STATE_NO_RECEIVERS))
		return -EPIPE;
	down_write(&b->lock);
	tail = b->tail;
	/*
	 * Before the cursors (read barrier): a fast-path receiver moves its
	 * cursor, then rings the doorbell that bumps @gen, so a bump seen
	 * here means its move is seen below. Kernel receivers do not move
	 * while we hold the lock.
	 */
	*gen = atomic_read(&b->gen);
	smp_rmb();	/* @gen before the cursors: see above */
	/* The slowest receiver after this send (tail + 1 with none). */
	min = chan_bcast_min(b, tail + 1);
	if (b->lossless && tail + 1 - min > chan_bcast_capacity(ch)) {
		up_write(&b->lock);
		return -EAGAIN;
	}
	s = chan_ring_slot(&ch->ring.view, tail);
	/*
	 * Seqlock-style, for mapped receivers (the kernel's hold the lock):
	 * WRITING before the payload, FULL after it. Release: the tail store
	 * of the previous send is before WRITING, so a receiver that sees
	 * WRITING of this lap and then loads the tail finds this position
	 * claimed.
	 */
	smp_store_release(&s->state,
			  chan_slot_state(chan_ring_lap(&ch->ring.view, tail),
					  CHAN_SLOT_WRITING, CHAN_OWNER_KERNEL));
	smp_wmb();	/* WRITING before the payload */
	s->len = x->len;
	s->flags = 0;
	memcpy(s->data, x->kbuf, x->len);
	/* Release: the payload before FULL (pairs with the acquire load). */
	smp_store_release(&s->state,
			  chan_slot_state(chan_ring_lap(&ch->ring.view, tail),
					  CHAN_SLOT_FULL, CHAN_OWNER_KERNEL));
	/* Release: the slot before the tail, for lockless looks at it. */
	smp_store_release(&b->tail, tail + 1);
	if (ch->ring.mappable) {
		/* Release: FULL before the shared tail, for the fast path. */
		smp_store_release(&ch->ring.view.hdr->tail, tail + 1);
	}
	up_write(&b->lock);
	/* The high-water depth: how far the slowest receiver is behind. */
	chan_note_depth(ch, min_t(u64, tail + 1 - min,
				  chan_bcast_capacity(ch)));
	trace_chan_send(ch, x->len, tail);
	chan_bcast_wake(ch, CHAN_DIR_RECV);
	return 0;
}

/* One attempt to receive at the receiver's cursor; never sleeps. */
static int chan_bcast_try_recv(struct chan_xfer *x)
{
	struct chan *ch = x->ch;
	struct chan_bcast *b = ch->bcast;
	struct chan_bcast_rx *rx = x->rx;
	u64 cap = chan_bcast_capacity(ch);
	u32 state = chan_state(ch);
	bool room = false;
	struct chan_slot *s;
	u64 tail, pos, *cur;
	u32 len, n = 0;
	int ret;

	if (state & CHAN_STATE_DESTROYED)
		return -EIDRM;
	down_read(&b->lock);
	/* The tail stands still while we hold the lock. */
	tail = b->tail;
	/* Stands still too: changed only under the lock, written. */
	cur = rx->cur;
	for (;;) {
		if (++n > CHAN_BCAST_RETRY_MAX) {
			/* Only a process scribbling its own cursor gets here. */
			ret = -EIO;
			break;
		}
		pos = chan_bcast_pos(rx, tail);
		if (tail - pos > cap) {
			/* Overrun: the oldest cap messages are all there is. */
			x->lost = tail - cap - pos;
			ret = -ENOBUFS;
			if (!x->take_overrun)
				break;
			if (cmpxchg64(cur, pos, tail - cap) != pos)
				continue;
			atomic64_add(x->lost, &rx->lost);
			atomic64_add(x->lost, &b->lost);
			break;
		}
		if (pos == tail) {
			/*
			 * The state was read (acquire) before the tail, so an
			 * empty cursor after CLOSED or NO_SENDERS is drained.
			 */
			if (state & CHAN_STATE_CLOSED)
				ret = -EPIPE;
			else if (x->peer && (state & CHAN_STATE_NO_SENDERS))
				ret = -EPIPE;
			else
				ret = -EAGAIN;
			break;
		}
		s = chan_ring_slot(&ch->ring.view, pos);
		/* Written by the kernel alone, at most msg_size. */
		len = min(s->len, ch->msg_size);
		x->out_len = len;
		if (len > x->faulted) {
			ret = len <= x->len ? CHAN_BCAST_FAULT_IN : -EMSGSIZE;
			break;
		}
		memcpy(x->kbuf, s->data, len);
		/* Another thread of this receiver took it first: again. */
		if (cmpxchg64(cur, pos, pos + 1) != pos)
			continue;
		atomic64_inc(&b->delivered);
		/* It was the one (or one of those) holding senders back. */
		room = b->lossless && tail - pos >= cap;
		trace_chan_recv(ch, len, pos);
		ret = 0;
		break;
	}
	up_read(&b->lock);
	if (room)
		chan_bcast_room(ch);
	return ret;
}

/**
 * chan_bcast_can_recv() - has a receiver something to take (or an
 *	overrun to hear about)?
 * @ch: a broadcast channel
 * @rx: the receiver's cursor
 *
 * Return: true if its cursor is behind the tail.
 */
bool chan_bcast_can_recv(struct chan *ch, struct chan_bcast_rx *rx)
{
	struct chan_bcast *b = ch->bcast;
	u64 tail = chan_bcast_tail(b);

	return chan_bcast_pos(rx, tail) != tail;
}

/**
 * chan_bcast_doorbell() - CHAN_IOC_WAKE of senders on a broadcast channel
 * @ch: a broadcast channel
 *
 * A fast-path receiver of a lossless channel moved its cursor and saw a
 * sender counted in kstate.send_waiters: the senders look again.
 */
void chan_bcast_doorbell(struct chan *ch)
{
	/* The receiver's cursor move (before its syscall) before the bump. */
	smp_mb__before_atomic();
	chan_bcast_room(ch);
}

/**
 * chan_bcast_can_send() - would a send find room?
 * @ch: a broadcast channel
 *
 * May sleep (the lock): for poll, not for a waiter's last look.
 *
 * Return: true unless lossless and the slowest receiver is capacity
 * behind.
 */
bool chan_bcast_can_send(struct chan *ch)
{
	struct chan_bcast *b = ch->bcast;
	bool ok;

	if (!b->lossless)
		return true;
	down_read(&b->lock);
	ok = b->tail - chan_bcast_min(b, b->tail) < chan_bcast_capacity(ch);
	up_read(&b->lock);
	return ok;
}

/*
 * The waiter's last look before it sleeps, with the task already asleep
 * (no lock may be taken): has anything it waits for changed since its
 * try? The same conditions as the try's, read locklessly.
 */
static bool chan_bcast_ready(struct chan_xfer *x, enum chan_dir dir, int gen)
{
	struct chan *ch = x->ch;
	u32 state = chan_state(ch);

	if (state & (CHAN_STATE_DESTROYED | CHAN_STATE_CLOSED))
		return true;
	if (dir == CHAN_DIR_SEND)
		return (x->peer && (state & CHAN_STATE_NO_RECEIVERS)) ||
		       atomic_read(&ch->bcast->gen) != gen;
	return (x->peer && (state & CHAN_STATE_NO_SENDERS)) ||
	       chan_bcast_can_recv(ch, x->rx);
}

/**
 * chan_bcast_xfer() - chan_xfer() of a broadcast channel
 * @x: the transfer; a receive needs @x->rx
 * @dir: which
 * @dl: how long to wait
 *
 * Return: as chan_xfer(), and -ENOBUFS (a receiver's overrun, @x->lost
 * messages), -EOPNOTSUPP (a receive with no cursor: by ID).
 */
int chan_bcast_xfer(struct chan_xfer *x, enum chan_dir dir,
		    const struct chan_deadline *dl)
{
	struct chan *ch = x->ch;
	wait_queue_head_t *wq = &ch->wq[dir];
	bool counted = false, waiter = false;
	int ret, gen = 0;
	DEFINE_WAIT(wait);

	if (dir == CHAN_DIR_RECV && !x->rx)
		return -EOPNOTSUPP;
	for (;;) {
		ret = dir == CHAN_DIR_SEND ? chan_bcast_try_send(x, &gen) :
					     chan_bcast_try_recv(x);
		if (ret == CHAN_BCAST_FAULT_IN) {
			ret = chan_fault_in(x);
			if (ret)
				break;
			continue;
		}
		if (ret != -EAGAIN || dl->nonblock)
			break;
		if (!counted) {
			counted = true;
			this_cpu_inc(ch->stats->waits[dir]);
		}
		/*
		 * A lossless sender that will wait counts itself where mapped
		 * receivers look after each move (kstate.send_waiters), then
		 * (full barrier) tries again: a receiver either sees the count
		 * and rings the doorbell, or its move is seen by that try.
		 */
		if (dir == CHAN_DIR_SEND && ch->ring.mappable && !waiter) {
			waiter = true;
			atomic_inc(chan_ring_waiters(ch, CHAN_DIR_SEND));
			smp_mb__after_atomic();	/* the count before the try */
			continue;
		}
		/* A full barrier between the queueing and the look. */
		prepare_to_wait(wq, &wait, TASK_INTERRUPTIBLE);
		if (chan_bcast_ready(x, dir, gen)) {
			finish_wait(wq, &wait);
			continue;
		}
		trace_chan_wait(ch, dir);
		ret = chan_sleep(dl);
		finish_wait(wq, &wait);
		if (ret)
			break;
	}
	if (waiter)
		atomic_dec(chan_ring_waiters(ch, CHAN_DIR_SEND));
	return ret;
}

/**
 * chan_bcast_fill_info() - the counts of a broadcast channel for INFO
 * @ch: a broadcast channel
 * @info: sent, received, depth, discarded and lost are filled in;
 *	dropped (faulted copy-outs) already
 */
void chan_bcast_fill_info(struct chan *ch, struct chan_info *info)
{
	struct chan_bcast *b = ch->bcast;
	u64 tail, min, delivered, lost, fast_rx = 0, fast_lost = 0;
	struct chan_bcast_rx *rx;

	down_read(&b->lock);
	/* Under the lock: a receiver leaving moves its counts atomically. */
	delivered = atomic64_read(&b->delivered);
	lost = atomic64_read(&b->lost);
	tail = b->tail;
	min = chan_bcast_min(b, tail);
	list_for_each_entry(rx, &b->rxs, node) {
		u64 r, l;

		chan_bcast_fast_counts(rx, tail, &r, &l);
		fast_rx += r;
		fast_lost += l;
	}
	up_read(&b->lock);
	info->sent = tail;
	if (info->dropped > delivered)
		info->dropped = delivered;
	info->received = delivered - info->dropped + fast_rx;
	info->lost = lost + fast_lost;
	if (info->state & CHAN_STATE_DESTROYED) {
		info->depth = 0;
		info->discarded = READ_ONCE(b->discarded);
	} else {
		info->depth = min_t(u64, tail - min, chan_bcast_capacity(ch));
		info->discarded = 0;
	}
}
