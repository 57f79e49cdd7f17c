// SPDX-License-Identifier: GPL-2.0
/*
 * Sending and receiving: the ring operations, waiting, and the copies to
 * and from user memory. Deadlines are made in deadline.c, bounce buffers
 * in bounce.c.
 *
 * The kernel never sleeps or faults while it holds a slot: a message is
 * copied from user memory into a bounce buffer before a slot is claimed,
 * and copied out to user memory after the slot is retired.
 *
 * One path serves both directions: chan_xfer() tries the ring and, if it
 * must, waits on the channel's wait queue of that direction.
 *
 * A compact SPSC ring (chan_spsc_ring.h) is tried through its own
 * functions, under the direction's lock (struct chan_spsc_side), with the
 * same bounce buffers: the kernel holds nothing another party waits on
 * while it could fault. Its send and receive store one cursor each, last,
 * so there are no tombstones and no claims to hand back. Waiting and the
 * wake-ups are those of every ring below, with one barrier more: the fast
 * path there does not fence between its cursor store and its read of the
 * count of waiters, so a waiter, counted and finding the ring full
 * (empty), has the mappers' CPUs execute a barrier and looks once more
 * before it sleeps (chan_map_fence_peers(), map.c).
 *
 * Waiting: a waiter counts itself in the shared header, queues itself
 * exclusively, so that one message wakes one waiter, then re-tries the
 * ring before it sleeps. A waker publishes, then checks for sleepers
 * (wq_has_sleeper(): a full barrier that pairs with the barrier in
 * chan_waiter_prepare()), so either the waiter sees the message or the
 * waker sees the waiter.
 *
 * The shared count is of waiters not yet woken: a wake-up takes its
 * waiter off the count as it takes it off the queue (chan_waiter_wake()),
 * and a woken waiter that must wait again counts itself again before it
 * looks at the ring once more. So a fast-path sender that publishes a
 * stream of messages to a receiver it has just woken does not ask the
 * kernel to wake it again for each of them; and still no wake-up is lost:
 * a waiter off the count is running towards a look at the ring that
 * comes after it counts itself again (a full barrier between), so either
 * that look sees a message or its publisher sees the count.
 *
 * A wake-up can land on a waiter that will not use it: one leaving on a
 * signal or a timeout, or one whose own attempt succeeded while it was
 * still queued (a wake-up for the next slot then removes it instead of the
 * waiter behind it). So every waiter, however it leaves, passes a wake-up
 * on if the ring could still make progress; otherwise the last such
 * wake-up of a busy moment would be lost and the waiters behind it would
 * sleep next to a free slot or a queued message.
 *
 * Signals: a wait interrupted by a signal returns -ERESTARTSYS, so that
 * after a stop and continue, or a handler with SA_RESTART, the call is
 * restarted as a pipe read or mq_timedreceive() is. The deadline is
 * absolute in the kernel; a caller that gave a relative timeout is given
 * it back absolutely (chan_deadline_user(), dev.c) so that the restarted
 * call keeps the same end.
 */
#include <linux/crc32.h>
#include <linux/hrtimer.h>
#include <linux/pagemap.h>
#include <linux/sched/signal.h>
#include <linux/smp.h>
#include <linux/uaccess.h>
#include "chan_private.h"
#include "chan_trace.h"

/*
 * Tombstones one receive attempt skips before it lets the CPU go (and the
 * caller check for signals). Each skip consumes a slot, so a stream of
 * tombstones is progress, but it must not hold the CPU without bound.
 */
#define CHAN_SKIP_BATCH		64

/*
 * What a try returns besides 0 and -errno: positive, so never confused
 * with an error. CHAN_TRY_YIELD: progress was made, try again after
 * cond_resched(). CHAN_TRY_FAULT_IN: a message is there, fault the user
 * buffer in (which may sleep) before claiming it. CHAN_TRY_TURN: another
 * kernel path of the same side of a compact ring has its turn, wait for
 * it (which sleeps) and try again.
 */
#define CHAN_TRY_YIELD		1
#define CHAN_TRY_FAULT_IN	2
#define CHAN_TRY_TURN		3

/*
 * The check of a CHAN_CREATE_CRC32C message: CRC32C (Castagnoli; initial
 * value and final xor all ones) of its length as a little-endian __u32,
 * then its payload. libchan computes the same on the fast path.
 */
static u32 chan_msg_crc(const void *msg, u32 len)
{
	__le32 le = cpu_to_le32(len);
	u32 crc;

	crc = __crc32c_le(~0U, (const u8 *)&le, sizeof(le));
	return ~__crc32c_le(crc, msg, len);
}

/*
 * Wake one exclusive waiter of a direction (and every poller) if anyone
 * sleeps there.
 */
static void chan_wake(struct chan *ch, enum chan_dir dir)
{
	wait_queue_head_t *wq = &ch->wq[dir];

	if (wq_has_sleeper(wq)) {
		trace_chan_wake(ch, dir, 1);
		wake_up(wq);
	}
}

/**
 * chan_wake_dir() - wake one waiter of a direction, and its pollers
 * @ch: the channel
 * @dir: whom: senders waiting for room or receivers for a message
 *
 * For a doorbell from user space (CHAN_IOC_WAKE). The caller need not
 * have changed anything: a waiter woken for nothing looks at the ring,
 * passes the wake-up on if the ring can still make progress, and sleeps.
 */
void chan_wake_dir(struct chan *ch, enum chan_dir dir)
{
	if (chan_is_bcast(ch) && dir == CHAN_DIR_SEND)
		chan_bcast_doorbell(ch);
	else
		chan_wake(ch, dir);
}

/* Wake everyone: the channel's state changed. */
void chan_wake_all(struct chan *ch)
{
	trace_chan_wake(ch, CHAN_DIR_SEND, 0);
	wake_up_all(&ch->wq[CHAN_DIR_SEND]);
	trace_chan_wake(ch, CHAN_DIR_RECV, 0);
	wake_up_all(&ch->wq[CHAN_DIR_RECV]);
	/* A stream's readers waiting for their turn (stream.c). */
	if (chan_is_stream(ch))
		wake_up_all(&ch->stream.turn_wq);
}

/*
 * Statistics: the high-water depth. Kernel sends raise ch->max_depth after
 * they publish (one more look at the cursors, dwarfed by the system
 * call), and so do the kernel's receives from a compact SPSC ring when
 * they load the tail, since that ring's fast senders sample only a full
 * ring (its receivers sample, libchan's and the kernel's). The fast path
 * of a mappable ring raises a word of the header page of its own
 * (CHAN_RING_MAX_DEPTH_OFFSET), which is the mappers' to write: the
 * kernel reads it only here, clamps it to the capacity and folds it into
 * its own copy, trusting it for nothing else.
 */
void chan_note_depth(struct chan *ch, u32 depth)
{
	u32 old = READ_ONCE(ch->max_depth);

	/* Each failure means another raised it; at most capacity rounds. */
	while (depth > old && !try_cmpxchg(&ch->max_depth, &old, depth))
		;
}

static u64 *chan_user_max_depth(struct chan *ch)
{
	return ch->ring.mem + CHAN_RING_MAX_DEPTH_OFFSET;
}

/**
 * chan_max_depth() - the channel's high-water depth
 * @ch: the channel
 *
 * Folds what fast-path senders recorded in a mapped ring (clamped to the
 * capacity) into the kernel's own mark first.
 *
 * Return: the highest depth seen since create or the last reset.
 */
u32 chan_max_depth(struct chan *ch)
{
	if (ch->ring.mappable) {
		u64 user = READ_ONCE(*chan_user_max_depth(ch));

		chan_note_depth(ch, min_t(u64, user, ch->ring.view.mask + 1));
	}
	return READ_ONCE(ch->max_depth);
}

/**
 * chan_reset_stats() - restart the statistics that can be restarted
 * @ch: the channel
 *
 * The high-water depth restarts from the depth now (in the kernel's copy
 * and in a mapped ring's word). The message counts are the ring's cursors
 * and are never reset, so that sent = received + dropped + discarded +
 * depth keeps holding. A send racing with the reset may raise the mark
 * again at once: it did reach that depth.
 */
void chan_reset_stats(struct chan *ch)
{
	u32 depth = chan_ring_depth(&ch->ring.view);

	if (ch->ring.mappable)
		WRITE_ONCE(*chan_user_max_depth(ch), depth);
	WRITE_ONCE(ch->max_depth, depth);
}

/* Write x's message at a compact ring's tail; 0, -EAGAIN or -EIO. */
static int chan_spsc_try_send(struct chan_xfer *x)
{
	struct chan *ch = x->ch;
	struct chan_spsc_side *side = &ch->spsc[CHAN_DIR_SEND];
	const struct chan_spsc_ring *r = &ch->ring.spsc;
	unsigned char *data;
	s64 pos;
	u32 len = x->len;

	if (!mutex_trylock(&side->lock))
		return CHAN_TRY_TURN;
	data = chan_spsc_ring_send_begin(r, &side->cache, &pos);
	if (!data) {
		mutex_unlock(&side->lock);
		return pos;
	}
	trace_chan_send(ch, x->len, pos);
	if (ch->flags & CHAN_CREATE_CRC32C) {
		__le32 crc = cpu_to_le32(x->crc);

		memcpy(data, &crc, CHAN_CRC_SIZE);
		data += CHAN_CRC_SIZE;
		len += CHAN_CRC_SIZE;
	}
	memcpy(data, x->kbuf, x->len);
	chan_spsc_ring_send_end(r, pos, len);
	mutex_unlock(&side->lock);
	chan_note_depth(ch, chan_spsc_ring_depth(r));
	chan_wake(ch, CHAN_DIR_RECV);
	return 0;
}

/* One attempt to send; never sleeps. */
static int chan_try_send(struct chan_xfer *x)
{
	struct chan *ch = x->ch;
	const struct chan_ring_view *v = &ch->ring.view;
	u32 state = chan_state(ch);
	struct chan_slot *s;
	s64 pos;

	if (state & CHAN_STATE_DESTROYED)
		return -EIDRM;
	if (state & CHAN_STATE_CLOSED)
		return -EPIPE;
	if (x->peer && (state & CHAN_STATE_NO_RECEIVERS))
		return -EPIPE;
	if (ch->ring.compact)
		return chan_spsc_try_send(x);
	/*
	 * The kernel claims with a token of its own, never an endpoint's, so
	 * that the repair of an endpoint's mapping (map.c) cannot take a slot
	 * the kernel is writing. The claim moves the tail, which counts the
	 * message as sent (chan_fill_info()).
	 */
	s = chan_ring_claim_send(v, CHAN_OWNER_KERNEL, &pos);
	if (!s)
		return pos;
	/* Before the publish, so that it comes before the receive's. */
	trace_chan_send(ch, x->len, pos);
	/* Counted before the publish, so never behind the bytes read. */
	if (unlikely(chan_is_stream(ch)))
		atomic64_add(x->len, &ch->stream.tx_bytes);
	if (ch->flags & CHAN_CREATE_CRC32C) {
		__le32 crc = cpu_to_le32(x->crc);

		memcpy(s->data, &crc, CHAN_CRC_SIZE);
		memcpy(s->data + CHAN_CRC_SIZE, x->kbuf, x->len);
		chan_ring_publish(v, s, pos, x->len + CHAN_CRC_SIZE,
				  CHAN_OWNER_KERNEL);
	} else {
		memcpy(s->data, x->kbuf, x->len);
		chan_ring_publish(v, s, pos, x->len, CHAN_OWNER_KERNEL);
	}
	chan_note_depth(ch, chan_ring_depth(v));
	chan_wake(ch, CHAN_DIR_RECV);
	return 0;
}

/* Nothing to receive: why, by the state read before the ring. */
static int chan_recv_empty(struct chan_xfer *x, u32 state)
{
	/*
	 * The state was read (acquire) before the ring, so an empty ring
	 * after CLOSED or NO_SENDERS really is drained. A closed channel
	 * gets no more messages, whoever asks.
	 */
	if (state & CHAN_STATE_CLOSED)
		return -EPIPE;
	if (x->peer && (state & CHAN_STATE_NO_SENDERS))
		return -EPIPE;
	return -EAGAIN;
}

/*
 * Copy out a CHAN_CREATE_CRC32C message of @len slot bytes (its check,
 * then x->out_len bytes of payload) and verify the check on the kernel's
 * own copy, never on the shared slot, which a mapper may change after the
 * check. Called with the slot held. Return: 0 if it holds; -EBADMSG
 * (counted as corrupt) if it fails and the caller asked for it; else
 * -EAGAIN: counted as corrupt and dropped, the caller skips it.
 */
static int chan_take_checked(struct chan_xfer *x, const unsigned char *data,
			     u32 len)
{
	struct chan *ch = x->ch;
	__le32 crc;

	if (len >= CHAN_CRC_SIZE) {
		memcpy(&crc, data, CHAN_CRC_SIZE);
		memcpy(x->kbuf, data + CHAN_CRC_SIZE, x->out_len);
		if (le32_to_cpu(crc) == chan_msg_crc(x->kbuf, x->out_len))
			return 0;
	}
	this_cpu_inc(ch->stats->corrupt);
	/* A slot too short to hold a check goes back as an empty message. */
	if (x->badmsg)
		return -EBADMSG;
	this_cpu_inc(ch->stats->dropped);
	trace_chan_drop(ch, CHAN_DROP_CORRUPT, 1);
	return -EAGAIN;
}

/*
 * One attempt to receive from a compact ring, as chan_try_recv(): no
 * tombstones; a message whose check fails is skipped (dropped) unless
 * x->badmsg.
 */
static int chan_spsc_try_recv(struct chan_xfer *x)
{
	struct chan *ch = x->ch;
	struct chan_spsc_side *side = &ch->spsc[CHAN_DIR_RECV];
	const struct chan_spsc_ring *r = &ch->ring.spsc;
	u32 hdr = ch->flags & CHAN_CREATE_CRC32C ? CHAN_CRC_SIZE : 0;
	const unsigned char *data;
	u32 n, state, len = 0;
	u64 seen;
	s64 pos;
	int ret;

	for (n = 0; n < CHAN_SKIP_BATCH; n++) {
		state = chan_state(ch);
		if (state & CHAN_STATE_DESTROYED)
			return -EIDRM;
		if (!mutex_trylock(&side->lock))
			return CHAN_TRY_TURN;
		seen = side->cache;
		/* A CRC32C slot's length counts the check before the payload. */
		data = chan_spsc_ring_recv_begin(r, &side->cache,
						 x->faulted + hdr, &pos, &len);
		/*
		 * The tail loaded: the depth seen, for the high-water mark,
		 * as libchan's receivers sample it on a compact ring (its
		 * fast senders do not, unless they find it full).
		 */
		if (side->cache != seen)
			chan_note_depth(ch, chan_spsc_ring_depth(r));
		x->out_len = len >= hdr ? len - hdr : 0;
		if (!data) {
			mutex_unlock(&side->lock);
			if (pos == -EAGAIN)
				return chan_recv_empty(x, state);
			if (pos == -EMSGSIZE && x->out_len <= x->len)
				return CHAN_TRY_FAULT_IN;
			return pos;
		}
		/* out_len <= x->faulted <= x->len: recv_begin bounds len. */
		ret = hdr ? chan_take_checked(x, data, len) : 0;
		if (!hdr)
			memcpy(x->kbuf, data, x->out_len);
		if (ret != -EAGAIN)
			trace_chan_recv(ch, x->out_len, pos);
		chan_spsc_ring_recv_end(r, pos);
		mutex_unlock(&side->lock);
		chan_wake(ch, CHAN_DIR_SEND);
		if (ret != -EAGAIN)
			return ret;
	}
	return CHAN_TRY_YIELD;
}

/*
 * One attempt to receive; never sleeps. Skips tombstones, and messages
 * whose check fails unless x->badmsg. A message is
 * claimed only if it fits in the part of the user buffer known to be
 * writable (x->faulted bytes); a longer one that still fits the buffer
 * makes the caller fault in that much first and try again. So a receive
 * faults the buffer in only for a message that was there for it, and
 * never when it takes nothing because the channel is empty.
 */
static int chan_try_recv(struct chan_xfer *x)
{
	struct chan *ch = x->ch;
	const struct chan_ring_view *v = &ch->ring.view;
	u32 hdr = ch->flags & CHAN_CREATE_CRC32C ? CHAN_CRC_SIZE : 0;
	struct chan_slot *s;
	u32 n, state, len = 0;
	s64 pos;
	int ret;

	if (ch->ring.compact)
		return chan_spsc_try_recv(x);
	for (n = 0; n < CHAN_SKIP_BATCH; n++) {
		state = chan_state(ch);
		if (state & CHAN_STATE_DESTROYED)
			return -EIDRM;
		/* A CRC32C slot's length counts the check before the payload. */
		s = chan_ring_claim_recv(v, CHAN_OWNER_KERNEL, x->faulted + hdr,
					 &pos, &len);
		x->out_len = len >= hdr ? len - hdr : 0;
		if (!s) {
			if (pos == -EAGAIN)
				return chan_recv_empty(x, state);
			if (pos == -EMSGSIZE && x->out_len <= x->len)
				return CHAN_TRY_FAULT_IN;
			return pos;
		}
		if (chan_slot_is_tombstone(s)) {
			/* Its sender died writing it (map.c): a lost message. */
			chan_ring_retire(v, s, pos);
			this_cpu_inc(ch->stats->dropped);
			trace_chan_drop(ch, CHAN_DROP_TOMBSTONE, 1);
			chan_wake(ch, CHAN_DIR_SEND);
			continue;
		}
		/*
		 * out_len is at most x->faulted <= x->len, the size of kbuf:
		 * chan_ring_claim_recv() bounds len by what we asked, from its
		 * one read of the slot's flags and length.
		 */
		ret = hdr ? chan_take_checked(x, s->data, len) : 0;
		if (!hdr)
			memcpy(x->kbuf, s->data, x->out_len);
		/* Taken, unless skipped as corrupt (a drop, traced as such). */
		if (ret != -EAGAIN)
			trace_chan_recv(ch, x->out_len, pos);
		chan_ring_retire(v, s, pos);
		chan_wake(ch, CHAN_DIR_SEND);
		if (ret != -EAGAIN)
			return ret;
	}
	return CHAN_TRY_YIELD;
}

/*
 * Is every page of a user range mapped and readable? Probed with page
 * faults disabled, so it never faults anything in and never stores (a
 * receive that takes nothing must not have touched the buffer); it costs
 * a load per page. A page that is present but not writable passes (asking
 * the page tables for write access, with get_user_pages_fast_only(), cost
 * a fifth of a send+receive); @len must not be 0.
 */
static bool chan_user_present(const void __user *ubuf, size_t len)
{
	unsigned long addr = (unsigned long)ubuf;
	unsigned long last = addr + len - 1;
	bool ok = true;
	char c __maybe_unused;

	if (!access_ok(ubuf, len))
		return false;
	/* The first byte, then the first byte of each page up to @last. */
	pagefault_disable();
	for (; ok && addr <= last; addr = (addr | ~PAGE_MASK) + 1)
		ok = !__get_user(c, (const char __user *)addr);
	pagefault_enable();
	return ok;
}

/**
 * chan_user_ready() - make a receive buffer ready for a copy-out
 * @ubuf: the buffer, or NULL if @iter
 * @iter: the buffer as an iov_iter, or NULL
 * @len: its size (not 0)
 *
 * Faults the buffer in for writing, without storing to it. Not the
 * load-only probe of chan_user_present(): a page that is present but not
 * writable must fail here, since the bytes taken for a copy-out that
 * fails are lost (a mappable stream's reads, stream.c). May sleep: call
 * it holding no slot.
 *
 * Return: how many bytes from the start are ready (0: none).
 */
u32 chan_user_ready(void __user *ubuf, struct iov_iter *iter, u32 len)
{
	size_t left;

	if (iter)
		left = fault_in_iov_iter_writeable(iter, len);
	else
		left = fault_in_safe_writeable(ubuf, len);
	return left >= len ? 0 : len - left;
}

/*
 * Make the first x->out_len bytes of the receive buffer (the length of
 * the message that is there) ready for the copy-out, without storing to
 * them. May sleep: no slot is held.
 */
int chan_fault_in(struct chan_xfer *x)
{
	size_t left;

	if (x->iter)
		left = fault_in_iov_iter_writeable(x->iter, x->out_len);
	else
		left = fault_in_safe_writeable(x->ubuf, x->out_len);
	if (left)
		return -EFAULT;
	x->faulted = x->out_len;
	return 0;
}

/**
 * chan_spsc_can_progress() - could a try of @dir on a compact ring make
 *	progress?
 * @ch: a channel with a compact SPSC ring
 * @dir: room to send, or a message to receive
 *
 * From the cursors alone (chan_spsc_ring_depth(), clamped): inconsistent
 * cursors may say yes, and the try then fails with -EIO.
 *
 * Return: true if the try may succeed.
 */
bool chan_spsc_can_progress(struct chan *ch, enum chan_dir dir)
{
	u32 depth = chan_spsc_ring_depth(&ch->ring.spsc);

	if (dir == CHAN_DIR_SEND)
		return depth < ch->ring.spsc.mask + 1;
	return depth > 0;
}

/*
 * Could a try of @dir make progress? On a mappable stream a reader needs
 * a FULL head slot (chan_stream_head_state()): one that another reader
 * holds READING is not yet for it.
 */
static bool chan_can_progress(struct chan *ch, enum chan_dir dir)
{
	if (ch->ring.compact)
		return chan_spsc_can_progress(ch, dir);
	if (dir == CHAN_DIR_SEND)
		return chan_ring_can_send(&ch->ring.view);
	if (ch->ring.mappable && chan_is_stream(ch))
		return chan_stream_head_state(ch) > 0;
	return chan_ring_can_recv(&ch->ring.view);
}

/*
 * Must a wait end? A signal restarts the call; a kernel caller's handle
 * may also be shut down, or its kthread told to stop (kapi.c). The stop
 * is checked first: kthread_stop() also makes signal_pending() true
 * (TIF_NOTIFY_SIGNAL), and the kthread is told -EINTR, not a restart.
 */
static int chan_interrupted(const struct chan_deadline *dl)
{
	int ret;

	if (unlikely(dl->kernel)) {
		ret = chan_kernel_stopping(dl->kernel);
		if (ret)
			return ret;
	}
	if (signal_pending(current))
		return -ERESTARTSYS;
	return 0;
}

/**
 * chan_sleep() - sleep until woken, the deadline passes or a signal arrives
 * @dl: the deadline
 *
 * Called queued and in a sleeping state (chan_waiter_prepare(), or
 * prepare_to_wait() for a stream's readers' turn), after a failed attempt.
 *
 * Return: 0 (woken, or a spurious wake-up), -ETIMEDOUT, -ERESTARTSYS, or
 * what a kernel caller's stop gives (kapi.c).
 */
int chan_sleep(const struct chan_deadline *dl)
{
	ktime_t expires = dl->expires;
	int ret = chan_interrupted(dl);

	if (ret)
		return ret;
	if (!dl->timed) {
		schedule();
		return 0;
	}
	if (!schedule_hrtimeout_range(&expires, 0, HRTIMER_MODE_ABS))
		return -ETIMEDOUT;
	return 0;
}

/*
 * A pause in a run of progress that is not ours (tombstones skipped): let
 * the CPU go, and stop if the caller would not wait longer. A mapped ring
 * can be fed tombstones without end by a hostile mapper; this keeps a
 * non-blocking or timed call within its promise, and any call killable.
 */
int chan_yield(const struct chan_deadline *dl)
{
	int ret = chan_interrupted(dl);

	if (ret)
		return ret;
	if (dl->nonblock)
		return -EAGAIN;
	if (dl->timed && ktime_after(ktime_get(), dl->expires))
		return -ETIMEDOUT;
	cond_resched();
	return 0;
}

/**
 * struct chan_waiter - a task waiting on one of a channel's queues
 * @entry: its entry in the queue, exclusive
 * @count: the shared count of that direction's waiters not yet woken
 *	(chan_ring_waiters())
 * @counted: the waiter is in @count; changed only under the queue's lock
 * @fenced: on a compact SPSC ring, the mappers were made to execute a
 *	barrier since the waiter last counted itself (chan_map_fence_peers());
 *	cleared by chan_waiter_prepare() whenever it counts the waiter again
 */
struct chan_waiter {
	struct wait_queue_entry entry;
	atomic_t *count;
	bool counted;
	bool fenced;
};

/*
 * Wake a waiter (under the queue's lock): once it is off the queue it is
 * no longer a sleeper for anyone to wake, so it leaves the count too.
 */
static int chan_waiter_wake(struct wait_queue_entry *entry, unsigned int mode,
			    int sync, void *key)
{
	struct chan_waiter *w = container_of(entry, struct chan_waiter, entry);
	int ret = autoremove_wake_function(entry, mode, sync, key);

	if (ret && w->counted) {
		w->counted = false;
		atomic_dec(w->count);
	}
	return ret;
}

/*
 * Count the waiter, queue it and mark it asleep before its next look at
 * the ring. set_current_state() is a full barrier: it orders the count
 * before that look, pairing with the barrier between a waker's publish
 * and its check for waiters (wq_has_sleeper() in the kernel, a fence in
 * user space).
 */
static void chan_waiter_prepare(wait_queue_head_t *wq, struct chan_waiter *w)
{
	unsigned long flags;

	spin_lock_irqsave(&wq->lock, flags);
	if (!w->counted) {
		w->counted = true;
		w->fenced = false;
		atomic_inc(w->count);
	}
	if (list_empty(&w->entry.entry))
		__add_wait_queue_entry_tail(wq, &w->entry);
	set_current_state(TASK_INTERRUPTIBLE);
	spin_unlock_irqrestore(&wq->lock, flags);
}

/* Leave the queue and the count, if a wake-up did not already. */
static void chan_waiter_finish(wait_queue_head_t *wq, struct chan_waiter *w)
{
	unsigned long flags;

	__set_current_state(TASK_RUNNING);
	spin_lock_irqsave(&wq->lock, flags);
	if (!list_empty(&w->entry.entry))
		list_del_init(&w->entry.entry);
	if (w->counted) {
		w->counted = false;
		atomic_dec(w->count);
	}
	spin_unlock_irqrestore(&wq->lock, flags);
}

/**
 * chan_xfer() - carry out a send or a receive
 * @x: the transfer, its message in @x->kbuf (a receive's buffer with
 *	@x->faulted set to its whole size needs no user memory)
 * @dir: which
 * @dl: how long to wait
 *
 * Try, and while the ring is full (empty) wait for room (a message), as
 * the deadline allows. The path of every send and receive through the
 * kernel, from user memory (below) or kernel memory (kapi.c).
 *
 * Return: 0 or -errno, as chan_send_user() and chan_recv_user().
 */
int chan_xfer(struct chan_xfer *x, enum chan_dir dir,
	      const struct chan_deadline *dl)
{
	struct chan *ch = x->ch;
	wait_queue_head_t *wq = &ch->wq[dir];
	struct chan_waiter w = { .count = chan_ring_waiters(ch, dir) };
	bool queued = false;
	int ret;

	if (chan_is_bcast(ch))
		return chan_bcast_xfer(x, dir, dl);
	if (dir == CHAN_DIR_SEND && (ch->flags & CHAN_CREATE_CRC32C))
		x->crc = chan_msg_crc(x->kbuf, x->len);
	init_wait_entry(&w.entry, WQ_FLAG_EXCLUSIVE);
	w.entry.func = chan_waiter_wake;
	for (;;) {
		if (queued)
			chan_waiter_prepare(wq, &w);
		ret = dir == CHAN_DIR_SEND ? chan_try_send(x) : chan_try_recv(x);
		if (ret > 0) {
			/*
			 * Work that may sleep (a fault-in can wait on a slow
			 * or hostile filesystem), or a pause. Leave the queue
			 * first, passing on a wake-up the ring could use, so
			 * that no wake-up meant for the waiters behind us is
			 * spent on us meanwhile; chan_waiter_prepare() queues
			 * us again.
			 */
			if (queued) {
				chan_waiter_finish(wq, &w);
				if (chan_can_progress(ch, dir))
					chan_wake(ch, dir);
			}
			if (ret == CHAN_TRY_FAULT_IN) {
				ret = chan_fault_in(x);
				if (ret)
					break;
				continue;
			}
			if (ret == CHAN_TRY_TURN) {
				/* Bounded: the holder only copies memory. */
				mutex_lock(&ch->spsc[dir].lock);
				mutex_unlock(&ch->spsc[dir].lock);
				continue;
			}
			ret = chan_yield(dl);
			if (ret)
				break;
			continue;
		}
		if (ret != -EAGAIN || dl->nonblock)
			break;
		if (!queued) {
			/* Count, queue and try again before sleeping. */
			queued = true;
			this_cpu_inc(ch->stats->waits[dir]);
			continue;
		}
		if (ch->ring.compact && !w.fenced) {
			/*
			 * Counted, and the ring looked full (empty): the fast
			 * path on the other side issues no barrier before it
			 * reads the count, so make its CPUs do so, then look
			 * once more (map.c). Running, since it may sleep; a
			 * wake-up meanwhile took us off the queue and the
			 * count, and chan_waiter_prepare() puts us back.
			 */
			__set_current_state(TASK_RUNNING);
			chan_map_fence_peers(ch);
			w.fenced = true;
			continue;
		}
		trace_chan_wait(ch, dir);
		ret = chan_sleep(dl);
		if (ret)
			break;
	}
	if (!queued)
		return ret;
	chan_waiter_finish(wq, &w);
	/*
	 * After chan_waiter_finish() (the queue's lock, which the waker held),
	 * any wake-up this waiter took is visible, so the check sees what it
	 * was for.
	 */
	if (chan_can_progress(ch, dir))
		chan_wake(ch, dir);
	return ret;
}

/* Has the state changed so that a waiter of @dir must stop waiting? */
static bool chan_wait_ended(struct chan *ch, enum chan_dir dir, bool peer)
{
	u32 state = chan_state(ch);

	if (state & (CHAN_STATE_DESTROYED | CHAN_STATE_CLOSED))
		return true;
	if (!peer)
		return false;
	return state & (dir == CHAN_DIR_RECV ? CHAN_STATE_NO_SENDERS :
					       CHAN_STATE_NO_RECEIVERS);
}

/* Is chan_wait_ready()'s wait over? */
static bool chan_wait_over(struct chan *ch, enum chan_dir dir, bool peer,
			   bool busy)
{
	if (busy)
		return chan_stream_head_state(ch) != -EBUSY ||
		       (chan_state(ch) & CHAN_STATE_DESTROYED);
	return chan_can_progress(ch, dir) || chan_wait_ended(ch, dir, peer);
}

/**
 * chan_wait_ready() - wait until a direction could make progress
 * @ch: the channel
 * @dir: senders wait for room, receivers for a message
 * @peer: the caller is an endpoint (a disconnect ends its wait)
 * @busy: a reader of a mappable stream that found another reader in the
 *	head slot: wait only until the head is no longer held (READING),
 *	whatever the state, since its holder may leave bytes behind
 * @dl: how long to wait
 *
 * For callers that try the ring themselves (stream.c) and must not be in
 * a sleeping state while they do (they may fault). The waiter counts and
 * queues itself as chan_xfer()'s does, so a waker sees it or it sees the
 * ring; it returns once the ring could make progress or the state ended
 * the wait, and the caller tries again (and passes a wake-up on if, after
 * its try, the ring could still make progress). A waiter that leaves
 * without trying (a signal, the deadline) passes its wake-up on here.
 *
 * Return: 0 (try again), -EAGAIN (non-blocking), -ETIMEDOUT,
 * -ERESTARTSYS.
 */
int chan_wait_ready(struct chan *ch, enum chan_dir dir, bool peer, bool busy,
		    const struct chan_deadline *dl)
{
	wait_queue_head_t *wq = &ch->wq[dir];
	struct chan_waiter w = { .count = chan_ring_waiters(ch, dir) };
	int ret;

	if (dl->nonblock)
		return -EAGAIN;
	init_wait_entry(&w.entry, WQ_FLAG_EXCLUSIVE);
	w.entry.func = chan_waiter_wake;
	this_cpu_inc(ch->stats->waits[dir]);
	for (;;) {
		chan_waiter_prepare(wq, &w);
		if (chan_wait_over(ch, dir, peer, busy)) {
			ret = 0;
			break;
		}
		trace_chan_wait(ch, dir);
		ret = chan_sleep(dl);
		if (ret)
			break;
	}
	chan_waiter_finish(wq, &w);
	if (ret && chan_can_progress(ch, dir))
		chan_wake(ch, dir);
	return ret;
}

/**
 * chan_send_user() - send a message from user memory
 * @ch: the channel
 * @peer: the caller is an endpoint (subject to disconnect)
 * @b: the file's bounce buffer
 * @ubuf: the payload, or NULL if @iter
 * @iter: the payload as an iov_iter (one message gathered), or NULL
 * @len: its length
 * @dl: how long to wait
 *
 * Return: 0, -EAGAIN, -ETIMEDOUT, -ERESTARTSYS, -EPIPE, -EIDRM, -EIO,
 * -EMSGSIZE, -EFAULT or -ENOMEM.
 */
int chan_send_user(struct chan *ch, bool peer,
		   struct chan_bounce *b, const void __user *ubuf,
		   struct iov_iter *iter, u32 len,
		   const struct chan_deadline *dl)
{
	u8 stack[CHAN_STACK_BOUNCE] __uninitialized;
	struct chan_xfer x = {
		.ch = ch,
		.peer = peer,
		.kbuf = stack,
		.len = len,
	};
	bool own = false;
	int ret;

	if (len > ch->msg_size)
		return -EMSGSIZE;
	/* An empty write to a stream writes nothing, as on a pipe. */
	if (!len && chan_is_stream(ch))
		return 0;
	if (len > sizeof(stack)) {
		x.kbuf = chan_bounce_get(b, len, &own);
		if (!x.kbuf)
			return -ENOMEM;
	}
	if (iter ? !copy_from_iter_full(x.kbuf, len, iter) :
		   copy_from_user(x.kbuf, ubuf, len))
		ret = -EFAULT;
	else
		ret = chan_xfer(&x, CHAN_DIR_SEND, dl);
	if (x.kbuf != stack)
		chan_bounce_put(b, x.kbuf, own);
	return ret;
}

/**
 * chan_recv_user() - receive a message into user memory
 * @ch: the channel
 * @peer: the caller is an endpoint (subject to disconnect)
 * @rx: the endpoint's cursor on a broadcast channel, or NULL
 * @take_overrun: on a broadcast channel, an overrun moves the cursor past
 *	the lost messages as it is reported; false only reports it (a batch
 *	that already moved messages stops there, the next call takes it)
 * @lostp: set to the messages missed with -ENOBUFS (else 0), or NULL
 * @b: the file's bounce buffer
 * @ubuf: the buffer, or NULL if @iter
 * @iter: the buffer as an iov_iter (one message scattered), or NULL
 * @cap: its size
 * @lenp: set to the message length (also on -EMSGSIZE and -EBADMSG)
 * @dl: how long to wait
 * @badmsg: on a CHAN_CREATE_CRC32C channel, return a message whose check
 *	fails, with -EBADMSG, instead of skipping it
 *
 * A buffer not all present is faulted in (without storing to it) once a
 * message is there and before it is taken, so that a bad buffer fails
 * with -EFAULT and leaves the message queued, and a receive that takes
 * nothing never touches the buffer. A message whose copy-out still faults
 * (a present but read-only buffer, or one unmapped meanwhile) is lost and
 * counted as dropped.
 *
 * Return: 0, -EAGAIN, -ETIMEDOUT, -ERESTARTSYS, -EPIPE, -EIDRM, -EIO,
 * -EMSGSIZE, -EBADMSG, -EFAULT, -ENOMEM; on a broadcast channel also
 * -ENOBUFS (an overrun) and -EOPNOTSUPP (no cursor).
 */
int chan_recv_user(struct chan *ch, bool peer, struct chan_bcast_rx *rx,
		   bool take_overrun, u64 *lostp,
		   struct chan_bounce *b, void __user *ubuf,
		   struct iov_iter *iter, u32 cap, u32 *lenp,
		   const struct chan_deadline *dl, bool badmsg)
{
	u8 stack[CHAN_STACK_BOUNCE] __uninitialized;
	struct chan_xfer x = {
		.ch = ch,
		.peer = peer,
		.kbuf = stack,
		.len = min(cap, ch->msg_size),
		.ubuf = ubuf,
		.iter = iter,
		.badmsg = badmsg,
		.rx = rx,
		.take_overrun = take_overrun,
	};
	bool own = false;
	int ret;

	/* A stream's bytes are taken across slots (stream.c). */
	if (chan_is_stream(ch))
		return chan_stream_recv(ch, peer, b, ubuf, iter, cap, lenp, dl);
	if (x.len > sizeof(stack)) {
		x.kbuf = chan_bounce_get(b, x.len, &own);
		if (!x.kbuf)
			return -ENOMEM;
	}
	/*
	 * A buffer whose pages are all present (the common case) is taken as
	 * is: the probe has no effect on it. Otherwise it is faulted in as
	 * far as a message that is there needs (chan_try_recv()). Only a
	 * buffer that is mapped but not writable, or is unmapped in between,
	 * can then make the copy-out fail: the message is counted as dropped.
	 */
	if (x.len && !iter && chan_user_present(ubuf, x.len))
		x.faulted = x.len;
	ret = chan_xfer(&x, CHAN_DIR_RECV, dl);
	*lenp = x.out_len;
	if (lostp)
		*lostp = ret == -ENOBUFS ? x.lost : 0;
	if (!ret || ret == -EBADMSG) {
		if (iter ? copy_to_iter(x.kbuf, x.out_len, iter) != x.out_len :
			   copy_to_user(ubuf, x.kbuf, x.out_len)) {
			this_cpu_inc(ch->stats->dropped);
			trace_chan_drop(ch, CHAN_DROP_FAULT, 1);
			ret = -EFAULT;
		}
	}
	if (x.kbuf != stack)
		chan_bounce_put(b, x.kbuf, own);
	return ret;
}
