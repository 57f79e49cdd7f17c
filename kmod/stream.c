// SPDX-License-Identifier: GPL-2.0
/*
 * Byte-stream channels (CHAN_CREATE_STREAM): bytes without message
 * boundaries, like a pipe with an ID, a name and permissions.
 *
 * A stream's ring is the message ring: each write of at most msg_size
 * bytes (the atomic size) is one slot, sent by the ordinary send path
 * (io.c), so it is never interleaved with another writer's bytes. A longer
 * write(2) is cut into pieces of msg_size bytes, each sent as one slot;
 * other writers' pieces may come between them, as between the pieces of a
 * pipe write beyond PIPE_BUF.
 *
 * Reading differs: a read takes bytes, from as many slots as it needs,
 * and may leave the rest of a slot for the next read. Readers take turns,
 * as a pipe's do on its mutex: the holder of the turn copies straight
 * from the head slot to the user's buffer, which may fault and sleep,
 * while the slot stays FULL (writers never touch a FULL slot, and no one
 * else claims from the ring of a channel that cannot be mapped); the
 * offset of the part already read is kept by the turn, and the slot is
 * claimed and retired only once its last byte is read. So a read that
 * faults loses nothing: what was not copied stays queued. Nobody waits
 * for data while holding the turn (chan_wait_ready() is called without
 * it), and nothing but the stream's own readers ever takes it, so a
 * reader that stalls in a fault (a slow or hostile filesystem,
 * userfaultfd) holds up only the other readers of that stream, and those
 * only as long as they would wait for bytes: the turn is a bit and a
 * wait queue rather than a mutex, so that the wait for it keeps the
 * read's deadline, signals and NONBLOCK (-EAGAIN at once). FIONREAD and
 * fdinfo do not take it. Poll does not either, but while it is held a
 * receiver's poll reports neither POLLIN nor POLLHUP, since a read would
 * wait for it, and the end of a turn wakes the pollers
 * (chan_stream_can_recv()).
 *
 * A mappable stream (CHAN_CREATE_STREAM | CHAN_CREATE_MAPPABLE) has
 * readers the kernel cannot make take turns: its mappers. There every
 * reader, the kernel included, uses the stream claim of chan_ring.h: it
 * claims the head slot (FULL to READING) without moving the head, copies
 * from it, and hands it back FULL with its offset or retires it. The
 * READING claim at the head is the turn: a reader that finds the head
 * held (-EBUSY) waits on the receive queue until the holder lets it go
 * (whoever ends a hold wakes that queue: the kernel here, libchan by
 * CHAN_IOC_WAKE). The kernel copies from the slot to its bounce buffer
 * under the claim and to the user only after the slot is handed back or
 * retired, so it never faults or sleeps holding a slot. The user buffer
 * is made ready for writing before each take (after any wait: the buffer
 * may have gone meanwhile), so a bad buffer takes nothing; a copy-out
 * that still fails (the buffer taken away by another thread between the
 * two) loses the bytes taken, counted as a drop (the read returns those
 * it did copy, or -EFAULT).
 */
#include <linux/minmax.h>
#include <linux/sched.h>
#include <linux/uaccess.h>
#include <linux/uio.h>
#include "chan_private.h"
#include "chan_trace.h"

/* The bit of chan_stream.busy held by the reader whose turn it is. */
#define CHAN_STREAM_BUSY	0

/*
 * Take the readers' turn, waiting for it as @dl allows. The waiter is
 * exclusive (one is woken per hand-over); one that leaves without the
 * turn (deadline, signal, DESTROY) passes on a wake-up it may have taken.
 * DESTROY wakes every waiter for the turn (chan_wake_all()), so a reader
 * waiting behind one stalled in its copy ends with the channel.
 *
 * Return: 0 (the caller holds the turn), -EAGAIN (non-blocking),
 * -ETIMEDOUT, -ERESTARTSYS, -EIDRM.
 */
static int chan_stream_turn(struct chan *ch, const struct chan_deadline *dl)
{
	struct chan_stream *st = &ch->stream;
	DEFINE_WAIT(w);
	int ret = 0;

	if (!test_and_set_bit_lock(CHAN_STREAM_BUSY, &st->busy))
		return 0;
	if (dl->nonblock)
		return -EAGAIN;
	for (;;) {
		/* A full barrier: queued before the bit is tried again. */
		prepare_to_wait_exclusive(&st->turn_wq, &w, TASK_INTERRUPTIBLE);
		if (!test_and_set_bit_lock(CHAN_STREAM_BUSY, &st->busy))
			break;
		/*
		 * After the barrier above: a DESTROY whose state we miss
		 * wakes us after we are queued.
		 */
		if (chan_state(ch) & CHAN_STATE_DESTROYED) {
			ret = -EIDRM;
			break;
		}
		ret = chan_sleep(dl);
		if (ret)
			break;
	}
	finish_wait(&st->turn_wq, &w);
	if (ret && !test_bit(CHAN_STREAM_BUSY, &st->busy))
		wake_up(&st->turn_wq);
	return ret;
}

/*
 * Hand the turn on: wake one waiter for it. Wake the receive queue too if
 * the end of the turn changes what a reader or a poller finds there:
 * bytes left behind (the next reader's: this reader may have taken the
 * wake-up they came with; a poller told nothing while the turn was held
 * now finds POLLIN) or a stream that has ended (POLLHUP now).
 */
static void chan_stream_turn_end(struct chan *ch)
{
	struct chan_stream *st = &ch->stream;

	clear_bit_unlock(CHAN_STREAM_BUSY, &st->busy);
	/*
	 * Pairs with the barrier in prepare_to_wait_exclusive(), between a
	 * waiter's queueing and its retry of the bit: it sees the bit clear
	 * or waitqueue_active() below sees it queued. Pairs as well with
	 * the smp_mb() of chan_endpoint_poll(), between a poller's queueing
	 * and its look at the bit (chan_stream_can_recv()): it sees the bit
	 * clear or wq_has_sleeper() in chan_wake_dir() below sees it queued.
	 * The ring and the state are looked at after the bit is clear: a
	 * write, or a sender's leaving, that this look misses wakes the
	 * receive queue itself, after the poller can see the bit clear.
	 */
	smp_mb__after_atomic();
	/* Safe after the barrier above. */
	if (waitqueue_active(&st->turn_wq))
		wake_up(&st->turn_wq);
	if (chan_ring_can_recv(&ch->ring.view) ||
	    (chan_state(ch) & (CHAN_STATE_NO_SENDERS | CHAN_STATE_CLOSED)))
		chan_wake_dir(ch, CHAN_DIR_RECV);
}

/*
 * The slot at the head if it holds a write (read or not), with its
 * length; else NULL. Called holding the turn: the head cursor is exact,
 * since only its holder claims.
 */
static struct chan_slot *chan_stream_head(const struct chan_ring_view *v,
					  u32 *lenp)
{
	/* Acquire: pairs with the cursor CAS of the last claim. */
	u64 pos = smp_load_acquire(&v->hdr->head);
	struct chan_slot *s = chan_ring_slot(v, pos);
	/* Acquire: pairs with the release in chan_ring_publish(). */
	u64 st = smp_load_acquire(&s->state);

	if (chan_lap_diff(chan_slot_lap(st), chan_ring_lap(v, pos)) ||
	    chan_slot_phase(st) != CHAN_SLOT_FULL)
		return NULL;
	*lenp = min(READ_ONCE(s->len), v->msg_size);
	return s;
}

/* The head slot @s was read to its end: hand it back to the writers. */
static int chan_stream_retire(struct chan *ch, struct chan_slot *s)
{
	const struct chan_ring_view *v = &ch->ring.view;
	struct chan_slot *c;
	u32 len = 0;
	s64 pos;

	c = chan_ring_claim_recv(v, CHAN_OWNER_KERNEL, v->msg_size, &pos,
				 &len);
	if (c != s) {
		/* Cannot happen: only the turn's holder claims. */
		WARN_ON_ONCE(1);
		if (c)
			chan_ring_retire(v, c, pos);
		return -EIO;
	}
	trace_chan_recv(ch, len, pos);
	chan_ring_retire(v, s, pos);
	chan_wake_dir(ch, CHAN_DIR_SEND);
	return 0;
}

/*
 * Bytes one read of a mappable stream takes at most (at least msg_size):
 * its bounce buffer's size. A read may return fewer bytes than asked, as
 * on a pipe.
 */
#define CHAN_STREAM_READ_MAX	(64U << 10)

/* Head claims one take of a mappable stream makes before it yields. */
#define CHAN_STREAM_PASSES	64

/**
 * chan_stream_head_state() - what a reader of a mappable stream finds at
 *	its head
 * @ch: the channel, CHAN_CREATE_STREAM | CHAN_CREATE_MAPPABLE
 *
 * Return: as chan_ring_stream_head(): 1 (a FULL head slot), -EBUSY
 * (another reader holds it) or 0 (nothing there yet).
 */
int chan_stream_head_state(struct chan *ch)
{
	return chan_ring_stream_head(&ch->ring.view);
}

/**
 * chan_stream_can_recv() - what a receiver's poll finds on a stream
 * @ch: the channel, CHAN_CREATE_STREAM
 *
 * A mappable stream's head (chan_stream_head_state()); on one that
 * cannot be mapped, the turn, then the bytes. While a reader holds the
 * turn a read would wait for it (or get -EAGAIN), and the holder may
 * take the bytes queued or leave some: neither POLLIN nor POLLHUP then.
 * The end of the turn wakes the receive queue if it leaves bytes or an
 * ended stream (chan_stream_turn_end()), so a level-triggered poller
 * sleeps through the turn instead of spinning. Called after the caller
 * queued itself for the receive queue and issued a full barrier.
 *
 * Return: 1 (bytes a read can take), -EBUSY (another reader holds the
 * turn, or the head), or 0 (nothing there).
 */
int chan_stream_can_recv(struct chan *ch)
{
	if (ch->ring.mappable)
		return chan_stream_head_state(ch);
	/* The bit's clearing pairs as chan_stream_turn_end() says. */
	if (test_bit(CHAN_STREAM_BUSY, &ch->stream.busy))
		return -EBUSY;
	return chan_ring_can_recv(&ch->ring.view);
}

/* chan_stream_take_mapped() ran out of passes: yield and try again. */
#define CHAN_STREAM_YIELD	1

/*
 * Take up to @cap bytes of a mappable stream into @kbuf, by the stream
 * claim, across slots; *@donep is set to the bytes taken. Each next slot
 * is claimed before the last one is retired, so the bytes are one range
 * of the stream (chan_ring_claim_stream_next()). Never sleeps or faults:
 * the claims are held only while bytes are copied between two kernel
 * buffers. A write whose writer died (a tombstone) is retired and counted
 * as dropped. Bounded: at most CHAN_STREAM_PASSES claims.
 *
 * Return: 0 (@cap bytes taken, or some and the rest of a write left),
 * -EAGAIN (nothing more published), -EBUSY (another reader holds the
 * head), -EIDRM, -EIO, or CHAN_STREAM_YIELD (the passes ran out: let the
 * CPU go and try again).
 */
static int chan_stream_take_mapped(struct chan *ch, u8 *kbuf, u32 cap,
				   u32 *donep)
{
	const struct chan_ring_view *v = &ch->ring.view;
	u32 done = 0, len, off, n, pass;
	struct chan_slot *s, *next;
	bool retired = false;
	s64 pos;
	int ret;

	if (chan_state(ch) & CHAN_STATE_DESTROYED) {
		*donep = 0;
		return -EIDRM;
	}
	s = chan_ring_claim_stream(v, CHAN_OWNER_KERNEL, &pos, &len, &off);
	if (!s) {
		*donep = 0;
		return pos;
	}
	for (pass = 1;; pass++) {
		if (!len && chan_slot_is_tombstone(s)) {
			/* Its writer died writing it (map.c): a lost write. */
			this_cpu_inc(ch->stats->dropped);
			trace_chan_drop(ch, CHAN_DROP_TOMBSTONE, 1);
		} else {
			/* off <= len <= msg_size: the claim clamped both. */
			n = min(len - off, cap - done);
			memcpy(kbuf + done, s->data + off, n);
			done += n;
			off += n;
			if (off < len) {
				chan_ring_stream_hand_back(v, s, pos, off,
							   CHAN_OWNER_KERNEL);
				ret = 0;
				break;
			}
			trace_chan_recv(ch, len, pos);
		}
		/*
		 * Read to its end: hold the next write before letting this
		 * one go, unless we are done, out of passes or destroyed.
		 */
		next = NULL;
		ret = -EAGAIN;
		if (done == cap)
			ret = 0;
		else if (pass == CHAN_STREAM_PASSES)
			ret = CHAN_STREAM_YIELD;
		else if (chan_state(ch) & CHAN_STATE_DESTROYED)
			ret = -EIDRM;
		else	/* -EAGAIN if nothing more is published yet */
			next = chan_ring_claim_stream_next(v, CHAN_OWNER_KERNEL,
							   pos + 1, &len, &off);
		chan_ring_stream_retire(v, s, pos);
		retired = true;
		if (!next)
			break;
		s = next;
		pos++;
	}
	/*
	 * Ending a hold lets the readers that found the head held go on
	 * (and the next reader take the rest); a retire frees a slot.
	 */
	chan_wake_dir(ch, CHAN_DIR_RECV);
	if (retired)
		chan_wake_dir(ch, CHAN_DIR_SEND);
	*donep = done;
	return ret;
}

/* The end of a stream: every reader still waiting must hear it too. */
static int chan_stream_end(struct chan *ch)
{
	if (wq_has_sleeper(&ch->wq[CHAN_DIR_RECV]))
		wake_up_all(&ch->wq[CHAN_DIR_RECV]);
	return -EPIPE;
}

/* chan_stream_recv() on a mappable stream. */
static int chan_stream_recv_mapped(struct chan *ch, bool peer,
				   struct chan_bounce *b, void __user *ubuf,
				   struct iov_iter *iter, u32 cap, u32 *lenp,
				   const struct chan_deadline *dl)
{
	u32 most = min(cap, max(ch->msg_size, CHAN_STREAM_READ_MAX));
	u8 stack[CHAN_STACK_BOUNCE] __uninitialized;
	u32 state, done = 0, got, want;
	bool own = false;
	u8 *kbuf = stack;
	int ret;

	if (most > sizeof(stack)) {
		kbuf = chan_bounce_get(b, most, &own);
		if (!kbuf)
			return -ENOMEM;
	}
	for (;;) {
		/*
		 * Acquire, before the ring: a stream found empty after
		 * CLOSED or NO_SENDERS was seen really is drained.
		 */
		state = chan_state(ch);
		if (state & CHAN_STATE_DESTROYED) {
			ret = -EIDRM;
			break;
		}
		/*
		 * Ready before anything is taken, and again after each wait
		 * (the buffer may have been unmapped or made read-only
		 * meanwhile): a bad buffer takes nothing.
		 */
		want = chan_user_ready(ubuf, iter, most);
		if (!want) {
			ret = -EFAULT;
			break;
		}
		ret = chan_stream_take_mapped(ch, kbuf, want, &done);
		if (done) {
			ret = 0;
			break;
		}
		if (ret == -EAGAIN) {
			if ((state & CHAN_STATE_CLOSED) ||
			    (peer && (state & CHAN_STATE_NO_SENDERS))) {
				ret = chan_stream_end(ch);
				break;
			}
			ret = chan_wait_ready(ch, CHAN_DIR_RECV, peer, false,
					      dl);
		} else if (ret == -EBUSY) {
			ret = chan_wait_ready(ch, CHAN_DIR_RECV, peer, true,
					      dl);
		} else if (ret == CHAN_STREAM_YIELD) {
			ret = chan_yield(dl);
		}
		if (ret)
			break;
	}
	if (done) {
		got = iter ? copy_to_iter(kbuf, done, iter) :
			     done - copy_to_user(ubuf, kbuf, done);
		atomic64_add(got, &ch->stream.rx_bytes);
		if (got < done) {
			/* Taken from the ring and not delivered: lost. */
			this_cpu_inc(ch->stats->dropped);
			trace_chan_drop(ch, CHAN_DROP_FAULT, 1);
		}
		*lenp = got;
		if (!got)
			ret = -EFAULT;
	}
	if (kbuf != stack)
		chan_bounce_put(b, kbuf, own);
	return ret;
}

/* Copy @n bytes to the reader; return how many were copied. */
static u32 chan_stream_copy(void __user *ubuf, struct iov_iter *iter,
			    u32 done, const void *src, u32 n)
{
	if (iter)
		return copy_to_iter(src, n, iter);
	return n - copy_to_user((char __user *)ubuf + done, src, n);
}

/*
 * Take up to @cap bytes from the head of the stream, across slots, holding
 * the turn. *@donep is set to the bytes copied. Bounded by @cap: each
 * pass copies at least a byte, or retires a slot that had none left.
 *
 * A destroy discards what is queued: a copy in progress when it came
 * (perhaps stalled in a fault) is finished, but no other is started, so
 * a reader that gets the mutex after the destroy takes nothing, and the
 * writes INFO counts as discarded are not received after all.
 *
 * Return: 0, or -EFAULT (the buffer faulted after *@donep bytes; the rest
 * stays queued), -EIDRM (destroyed) or -EIO.
 */
static int chan_stream_take(struct chan *ch, void __user *ubuf,
			    struct iov_iter *iter, u32 cap, u32 *donep)
{
	const struct chan_ring_view *v = &ch->ring.view;
	struct chan_stream *st = &ch->stream;
	struct chan_slot *s;
	u32 done = 0, len, n, got;
	int ret = 0;

	while (done < cap && (s = chan_stream_head(v, &len))) {
		if (chan_state(ch) & CHAN_STATE_DESTROYED) {
			ret = -EIDRM;
			break;
		}
		if (st->off < len) {
			n = min(len - st->off, cap - done);
			got = chan_stream_copy(ubuf, iter, done,
					       s->data + st->off, n);
			/* Read locklessly by chan_stream_queued(). */
			WRITE_ONCE(st->off, st->off + got);
			done += got;
			atomic64_add(got, &st->rx_bytes);
			if (got < n) {
				ret = -EFAULT;
				break;
			}
		}
		if (st->off >= len) {
			WRITE_ONCE(st->off, 0);
			ret = chan_stream_retire(ch, s);
			if (ret)
				break;
		}
		cond_resched();
	}
	*donep = done;
	return ret;
}

/**
 * chan_stream_recv() - read bytes from a stream
 * @ch: the channel, CHAN_CREATE_STREAM
 * @peer: the caller is an endpoint (the last sender leaving ends its
 *	stream)
 * @b: the endpoint's bounce buffer (a mappable stream's reads use it)
 * @ubuf: the buffer, or NULL if @iter
 * @iter: the buffer as an iov_iter, or NULL
 * @cap: its size
 * @lenp: set to the bytes read
 * @dl: how long to wait while nothing is there
 *
 * Returns as soon as it read a byte, with as many as were there (up to
 * @cap); waits only while the stream is empty. The end of the stream
 * (drained, and closed, or with no sender endpoint left for an endpoint)
 * is -EPIPE; read(2) turns it into 0. A @cap of 0 reads nothing and
 * returns 0 at once. A non-blocking read that finds another reader
 * copying (holding the turn) does not wait for it: -EAGAIN; a blocking
 * one waits for it as @dl allows, as it would for bytes.
 *
 * Return: 0, -EAGAIN, -ETIMEDOUT, -ERESTARTSYS, -EPIPE, -EIDRM, -EFAULT
 * (nothing could be copied) or -EIO.
 */
int chan_stream_recv(struct chan *ch, bool peer, struct chan_bounce *b,
		     void __user *ubuf, struct iov_iter *iter, u32 cap,
		     u32 *lenp, const struct chan_deadline *dl)
{
	u32 state, done;
	int ret;

	*lenp = 0;
	if (!cap)
		return 0;
	if (ch->ring.mappable)
		return chan_stream_recv_mapped(ch, peer, b, ubuf, iter, cap,
					       lenp, dl);
	for (;;) {
		/*
		 * Acquire, before the ring: a stream found empty after
		 * CLOSED or NO_SENDERS was seen really is drained.
		 */
		state = chan_state(ch);
		if (state & CHAN_STATE_DESTROYED)
			return -EIDRM;
		ret = chan_stream_turn(ch, dl);
		if (ret)
			return ret;
		ret = chan_stream_take(ch, ubuf, iter, cap, &done);
		chan_stream_turn_end(ch);
		if (done) {
			*lenp = done;
			return 0;
		}
		if (ret)
			return ret;
		if (state & CHAN_STATE_CLOSED)
			return -EPIPE;
		if (peer && (state & CHAN_STATE_NO_SENDERS))
			return -EPIPE;
		ret = chan_wait_ready(ch, CHAN_DIR_RECV, peer, false, dl);
		if (ret)
			return ret;
	}
}

/**
 * chan_stream_write() - write bytes to a stream from a channel fd
 * @ch: the channel, CHAN_CREATE_STREAM
 * @b: the endpoint's bounce buffer
 * @ubuf: the bytes, or NULL if @iter
 * @iter: the bytes as an iov_iter, or NULL
 * @count: how many
 * @dl: how long each piece may wait for room
 *
 * Each piece of up to msg_size bytes is one atomic write. As on a pipe,
 * a blocking write returns once everything is written, and a write that
 * fails after some pieces went (non-blocking and full, a signal, the
 * readers gone, a fault) returns the bytes written.
 *
 * Return: bytes written, or -errno as chan_send_user() if none was.
 */
ssize_t chan_stream_write(struct chan *ch, struct chan_bounce *b,
			  const char __user *ubuf, struct iov_iter *iter,
			  size_t count, const struct chan_deadline *dl)
{
	size_t done = 0;
	u32 n;
	int ret;

	while (done < count) {
		n = min_t(size_t, count - done, ch->msg_size);
		ret = chan_send_user(ch, true, b, iter ? NULL : ubuf + done,
				     iter, n, dl);
		if (ret)
			return done ? done : ret;
		done += n;
		cond_resched();
	}
	return done;
}

/**
 * chan_stream_queued() - the bytes a stream holds, for FIONREAD
 * @ch: the channel, CHAN_CREATE_STREAM
 * @bytes: set to the bytes queued and not yet read
 *
 * Without the readers' turn, so that a stalled reader cannot hold it
 * up: a snapshot, which a read in progress may leave off by the bytes it
 * is taking (never negative, never more than the ring holds). Walks at
 * most the capacity. A destroyed stream holds nothing to read (its bytes
 * are discarded, as INFO says): 0.
 *
 * On a mappable stream the offset is the head slot's (flags, clamped as
 * a claim clamps it), and a slot a reader holds (READING) counts whole
 * from that offset: the bytes that reader is taking are still counted.
 * The lengths are whatever the mappers left there, clamped to msg_size.
 * Slots retired for their lap before the first one counted are walked
 * past, as chan_stream_head_state() does: a stale head, left by a mapper
 * stopped between its retire and its help of the head.
 *
 * Return: 0.
 */
int chan_stream_queued(struct chan *ch, u64 *bytes)
{
	const struct chan_ring_view *v = &ch->ring.view;
	bool mapped = ch->ring.mappable;
	u64 pos, st, sum = 0;
	u32 n, k, off, flags, len;
	struct chan_slot *s;
	s64 d;

	*bytes = 0;
	if (chan_state(ch) & CHAN_STATE_DESTROYED)
		return 0;
	off = READ_ONCE(ch->stream.off);
	/* Acquire: pairs with the cursor CAS of the last claim. */
	pos = smp_load_acquire(&v->hdr->head);
	/* n: positions looked at (capacity + 1 at most); k: slots counted. */
	for (n = 0, k = 0; n <= v->mask + 1 && k <= v->mask; n++, pos++) {
		s = chan_ring_slot(v, pos);
		/* Acquire: pairs with the release in chan_ring_publish(). */
		st = smp_load_acquire(&s->state);
		d = chan_lap_diff(chan_slot_lap(st), chan_ring_lap(v, pos));
		if (mapped && !k && d > 0)
			continue;
		if (d || (chan_slot_phase(st) != CHAN_SLOT_FULL &&
			  (!mapped || chan_slot_phase(st) != CHAN_SLOT_READING)))
			break;
		flags = READ_ONCE(s->flags);
		len = flags & CHAN_SLOT_TOMBSTONE ? 0 :
			min(READ_ONCE(s->len), v->msg_size);
		if (mapped && !k)
			off = min(flags >> CHAN_SLOT_STREAM_OFF_SHIFT, len);
		sum += len;
		k++;
	}
	*bytes = sum >= off ? sum - off : 0;
	return 0;
}

/* A stream's lines of a channel fd's fdinfo. */
void chan_stream_show_fdinfo(struct seq_file *m, struct chan *ch)
{
	u64 rx, tx;

	rx = atomic64_read(&ch->stream.rx_bytes);
	/* Bytes are counted sent before they can be read: read rx first. */
	smp_rmb();
	tx = atomic64_read(&ch->stream.tx_bytes);
	seq_printf(m, "bytes_sent:\t%llu\n", tx);
	seq_printf(m, "bytes_received:\t%llu\n", rx);
}
