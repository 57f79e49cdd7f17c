// SPDX-License-Identifier: GPL-2.0
/*
 * Sending and receiving: the ring operations, waiting, and the copies to
 * and from user memory.
 *
 * The kernel never sleeps or faults while it holds a slot: a message is
 * copied from user memory into a bounce buffer before a slot is claimed,
 * and copied out to user memory after the slot is retired.
 *
 * Waiting: a waiter queues itself exclusively, so that one message wakes
 * one waiter, then re-tries the ring before it sleeps. A waker publishes,
 * then checks for sleepers (wq_has_sleeper(): a full barrier that pairs
 * with the barrier in prepare_to_wait_exclusive()), so either the waiter
 * sees the message or the waker sees the waiter.
 *
 * A wake-up can land on a waiter that will not use it: one leaving on a
 * signal or a timeout, or one whose own attempt succeeded while it was
 * still queued (a wake-up for the next slot then removes it instead of the
 * waiter behind it). So every waiter, however it leaves, passes a wake-up
 * on if the ring could still make progress; otherwise the last such
 * wake-up of a busy moment would be lost and the waiters behind it would
 * sleep next to a free slot or a queued message.
 */
#include <linux/hrtimer.h>
#include <linux/pagemap.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "chan_private.h"

/**
 * chan_deadline_init() - check a call's flags and timeout
 * @dl: filled in
 * @flags: CHAN_MSG_* flags
 * @timeout_ns: relative or absolute timeout
 * @file_nonblock: the fd was opened O_NONBLOCK
 *
 * Return: 0, -EOPNOTSUPP (unknown flag) or -EINVAL (inconsistent).
 */
int chan_deadline_init(struct chan_deadline *dl, u32 flags, u64 timeout_ns,
		       bool file_nonblock)
{
	const u32 known = CHAN_MSG_NONBLOCK | CHAN_MSG_TIMEOUT |
			  CHAN_MSG_ABSTIME;
	ktime_t t;

	if (likely(!flags && !timeout_ns)) {
		/* The common case: block (or not, per the fd) forever. */
		dl->nonblock = file_nonblock;
		dl->timed = false;
		dl->expires = 0;
		return 0;
	}
	if (flags & ~known)
		return -EOPNOTSUPP;
	if ((flags & CHAN_MSG_NONBLOCK) && (flags & CHAN_MSG_TIMEOUT))
		return -EINVAL;
	if ((flags & CHAN_MSG_ABSTIME) && !(flags & CHAN_MSG_TIMEOUT))
		return -EINVAL;
	if (!(flags & CHAN_MSG_TIMEOUT) && timeout_ns)
		return -EINVAL;

	dl->nonblock = file_nonblock || (flags & CHAN_MSG_NONBLOCK);
	dl->timed = flags & CHAN_MSG_TIMEOUT;
	dl->expires = 0;
	if (dl->timed) {
		t = timeout_ns > KTIME_MAX ? KTIME_MAX : (ktime_t)timeout_ns;
		dl->expires = (flags & CHAN_MSG_ABSTIME) ? t :
			      ktime_add_safe(ktime_get(), t);
	}
	return 0;
}

/* Wake one exclusive waiter (and every poller) if anyone sleeps on @wq. */
static void chan_wake(wait_queue_head_t *wq)
{
	if (wq_has_sleeper(wq))
		wake_up(wq);
}

/* Wake everyone: the channel's state changed. */
void chan_wake_all(struct chan *ch)
{
	wake_up_all(&ch->send_wq);
	wake_up_all(&ch->recv_wq);
}

/* One attempt to send; never sleeps. */
static int chan_try_send(struct chan *ch, u32 owner, const void *kbuf,
			 u32 len)
{
	const struct chan_ring_view *v = &ch->ring.view;
	u32 state = chan_state(ch);
	struct chan_slot *s;
	s64 pos;

	if (state & CHAN_STATE_DESTROYED)
		return -EIDRM;
	if (state & CHAN_STATE_NO_RECEIVERS)
		return -EPIPE;
	s = chan_ring_claim_send(v, owner, &pos);
	if (!s)
		return pos;
	memcpy(s->data, kbuf, len);
	chan_ring_publish(v, s, pos, len, owner);
	this_cpu_inc(ch->stats->sent);
	chan_wake(&ch->recv_wq);
	return 0;
}

/* One attempt to receive; never sleeps. Skips tombstones. */
static int chan_try_recv(struct chan *ch, u32 owner, void *kbuf, u32 cap,
			 u32 *lenp)
{
	const struct chan_ring_view *v = &ch->ring.view;
	struct chan_slot *s;
	u32 n, state;
	s64 pos;

	/* Each tombstone skipped is a slot consumed: at most one lap. */
	for (n = 0; n <= v->mask; n++) {
		state = chan_state(ch);
		if (state & CHAN_STATE_DESTROYED)
			return -EIDRM;
		s = chan_ring_claim_recv(v, owner, cap, &pos, lenp);
		if (!s) {
			/*
			 * The state was read (acquire) before the ring, so an
			 * empty ring after NO_SENDERS really is drained.
			 */
			if (pos == -EAGAIN && (state & CHAN_STATE_NO_SENDERS))
				return -EPIPE;
			return pos;
		}
		if (chan_slot_is_tombstone(s)) {
			chan_ring_retire(v, s, pos);
			chan_wake(&ch->send_wq);
			continue;
		}
		memcpy(kbuf, s->data, *lenp);
		chan_ring_retire(v, s, pos);
		chan_wake(&ch->send_wq);
		return 0;
	}
	return -EAGAIN;
}

/*
 * Sleep until woken, the deadline passes or a signal arrives. Called after
 * prepare_to_wait_exclusive() and a failed attempt.
 */
static int chan_sleep(const struct chan_deadline *dl)
{
	ktime_t expires = dl->expires;

	if (signal_pending(current))
		return -EINTR;
	if (!dl->timed) {
		schedule();
		return 0;
	}
	if (!schedule_hrtimeout_range(&expires, 0, HRTIMER_MODE_ABS))
		return -ETIMEDOUT;
	return 0;
}

/* Mirror a waiter count into the ring header for user-space wakers. */
static void chan_count_waiter(atomic_t *count, __u32 *mirror, int delta)
{
	WRITE_ONCE(*mirror, (u32)atomic_add_return(delta, count));
}

/**
 * chan_send() - send a message held in kernel memory
 * @ch: the channel
 * @owner: the sender's owner token
 * @kbuf: the payload
 * @len: its length, at most ch->msg_size
 * @dl: how long to wait for room
 *
 * Return: 0, -EAGAIN, -ETIMEDOUT, -EINTR, -EPIPE, -EIDRM or -EIO.
 */
int chan_send(struct chan *ch, u32 owner, const void *kbuf, u32 len,
	      const struct chan_deadline *dl)
{
	struct chan_ring_kstate *ks = &ch->ring.view.hdr->kstate;
	DEFINE_WAIT(wait);
	int ret;

	ret = chan_try_send(ch, owner, kbuf, len);
	if (ret != -EAGAIN || dl->nonblock)
		return ret;

	this_cpu_inc(ch->stats->send_waits);
	chan_count_waiter(&ch->send_waiters, &ks->send_waiters, 1);
	for (;;) {
		prepare_to_wait_exclusive(&ch->send_wq, &wait,
					  TASK_INTERRUPTIBLE);
		ret = chan_try_send(ch, owner, kbuf, len);
		if (ret != -EAGAIN)
			break;
		ret = chan_sleep(dl);
		if (ret)
			break;
	}
	finish_wait(&ch->send_wq, &wait);
	chan_count_waiter(&ch->send_waiters, &ks->send_waiters, -1);
	/*
	 * After finish_wait(), any wake-up this waiter took is visible (the
	 * waker's list removal is a release, finish_wait()'s check an acquire,
	 * or both hold the queue lock), so the check sees what it was for.
	 */
	if (chan_ring_can_send(&ch->ring.view))
		chan_wake(&ch->send_wq);
	return ret;
}

/**
 * chan_recv() - receive a message into kernel memory
 * @ch: the channel
 * @owner: the receiver's owner token
 * @kbuf: the buffer
 * @cap: its size
 * @lenp: set to the message length (also on -EMSGSIZE)
 * @dl: how long to wait for a message
 *
 * Return: 0, -EAGAIN, -ETIMEDOUT, -EINTR, -EPIPE, -EIDRM, -EMSGSIZE or
 * -EIO.
 */
int chan_recv(struct chan *ch, u32 owner, void *kbuf, u32 cap, u32 *lenp,
	      const struct chan_deadline *dl)
{
	struct chan_ring_kstate *ks = &ch->ring.view.hdr->kstate;
	DEFINE_WAIT(wait);
	int ret;

	ret = chan_try_recv(ch, owner, kbuf, cap, lenp);
	if (ret != -EAGAIN || dl->nonblock)
		return ret;

	this_cpu_inc(ch->stats->recv_waits);
	chan_count_waiter(&ch->recv_waiters, &ks->recv_waiters, 1);
	for (;;) {
		prepare_to_wait_exclusive(&ch->recv_wq, &wait,
					  TASK_INTERRUPTIBLE);
		ret = chan_try_recv(ch, owner, kbuf, cap, lenp);
		if (ret != -EAGAIN)
			break;
		ret = chan_sleep(dl);
		if (ret)
			break;
	}
	finish_wait(&ch->recv_wq, &wait);
	chan_count_waiter(&ch->recv_waiters, &ks->recv_waiters, -1);
	/*
	 * After finish_wait(), any wake-up this waiter took is visible (the
	 * waker's list removal is a release, finish_wait()'s check an acquire,
	 * or both hold the queue lock), so the check sees what it was for.
	 */
	if (chan_ring_can_recv(&ch->ring.view))
		chan_wake(&ch->recv_wq);
	return ret;
}

/*
 * A buffer of at least @size bytes: the file's own if no other call is
 * using it (grown if needed), else a private one. *own says which.
 */
static void *chan_bounce_get(struct chan_bounce *b, u32 size, bool *own)
{
	void *buf;

	*own = !test_and_set_bit_lock(0, &b->busy);
	if (!*own)
		return kvmalloc(size, GFP_KERNEL_ACCOUNT);
	if (b->size >= size)
		return b->buf;
	buf = kvmalloc(size, GFP_KERNEL_ACCOUNT);
	if (!buf) {
		clear_bit_unlock(0, &b->busy);
		return NULL;
	}
	kvfree(b->buf);
	b->buf = buf;
	b->size = size;
	return buf;
}

static void chan_bounce_put(struct chan_bounce *b, void *buf, bool own)
{
	if (own)
		clear_bit_unlock(0, &b->busy);
	else
		kvfree(buf);
}

void chan_bounce_free(struct chan_bounce *b)
{
	kvfree(b->buf);
	b->buf = NULL;
	b->size = 0;
}

/**
 * chan_send_user() - send a message from user memory
 * @ch: the channel
 * @owner: owner token
 * @b: the file's bounce buffer
 * @ubuf: the payload
 * @len: its length
 * @dl: how long to wait
 *
 * Return: as chan_send(), or -EMSGSIZE, -EFAULT, -ENOMEM.
 */
int chan_send_user(struct chan *ch, u32 owner, struct chan_bounce *b,
		   const void __user *ubuf, u32 len,
		   const struct chan_deadline *dl)
{
	u8 stack[CHAN_STACK_BOUNCE] __uninitialized;
	void *kbuf = stack;
	bool own = false;
	int ret;

	if (len > ch->msg_size)
		return -EMSGSIZE;
	if (len > sizeof(stack)) {
		kbuf = chan_bounce_get(b, len, &own);
		if (!kbuf)
			return -ENOMEM;
	}
	if (copy_from_user(kbuf, ubuf, len))
		ret = -EFAULT;
	else
		ret = chan_send(ch, owner, kbuf, len, dl);
	if (kbuf != stack)
		chan_bounce_put(b, kbuf, own);
	return ret;
}

/**
 * chan_recv_user() - receive a message into user memory
 * @ch: the channel
 * @owner: owner token
 * @b: the file's bounce buffer
 * @ubuf: the buffer
 * @cap: its size
 * @lenp: set to the message length (also on -EMSGSIZE)
 * @dl: how long to wait
 *
 * The buffer is faulted in before a message is taken, so that a bad
 * buffer fails with -EFAULT and leaves the message queued; a message whose
 * copy-out still faults (the buffer was unmapped meanwhile) is lost and
 * counted as dropped.
 *
 * Return: as chan_recv(), or -EFAULT, -ENOMEM.
 */
int chan_recv_user(struct chan *ch, u32 owner, struct chan_bounce *b,
		   void __user *ubuf, u32 cap, u32 *lenp,
		   const struct chan_deadline *dl)
{
	u8 stack[CHAN_STACK_BOUNCE] __uninitialized;
	void *kbuf = stack;
	bool own = false;
	int ret;

	cap = min(cap, ch->msg_size);
	if (cap && fault_in_writeable(ubuf, cap))
		return -EFAULT;
	if (cap > sizeof(stack)) {
		kbuf = chan_bounce_get(b, cap, &own);
		if (!kbuf)
			return -ENOMEM;
	}
	ret = chan_recv(ch, owner, kbuf, cap, lenp, dl);
	if (!ret) {
		if (copy_to_user(ubuf, kbuf, *lenp)) {
			this_cpu_inc(ch->stats->dropped);
			ret = -EFAULT;
		} else {
			this_cpu_inc(ch->stats->received);
		}
	}
	if (kbuf != stack)
		chan_bounce_put(b, kbuf, own);
	return ret;
}
