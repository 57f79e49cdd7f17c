// SPDX-License-Identifier: GPL-2.0
/*
 * Channel fds (endpoints): anon-inode files returned by CHAN_IOC_OPEN.
 * Each counts as a sender and/or receiver of its channel, so closing it is
 * how peers learn that it left.
 */
#include <linux/anon_inodes.h>
#include <linux/compat.h>
#include <linux/file.h>
#include <asm/ioctls.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "chan_private.h"
#include "chan_trace.h"

static const struct file_operations chan_endpoint_fops;

struct chan_endpoint *chan_endpoint_from_file(struct file *file)
{
	return file->f_op == &chan_endpoint_fops ? file->private_data : NULL;
}

static int chan_endpoint_release(struct inode *inode, struct file *file)
{
	struct chan_endpoint *ep = file->private_data;
	struct chan *ch = ep->ch;

	if (ep->attached)
		trace_chan_release(ep);
	/* No mapping is left: each VMA holds the file. */
	if (test_bit(CHAN_EP_POLLED_SEND, &ep->flags))
		atomic_dec(chan_ring_waiters(ch, CHAN_DIR_SEND));
	if (test_bit(CHAN_EP_POLLED_RECV, &ep->flags))
		atomic_dec(chan_ring_waiters(ch, CHAN_DIR_RECV));
	if (chan_is_bcast(ch)) {
		chan_bcast_detach(ch, &ep->rx);
		chan_bcast_rx_free(&ep->rx);
	}
	if (ep->attached)
		chan_detach(ch, ep->roles);
	if (ep->token)
		ida_free(&ch->tokens, ep->token);
	chan_bounce_free(&ep->bounce);
	kfree(ep);
	chan_obj_destroyed(CHAN_OBJ_ENDPOINT);
	chan_put(ch);
	return 0;
}

/* FIONREAD on a stream: the bytes queued, as on a pipe (INT_MAX at most). */
static long chan_endpoint_fionread(struct chan_endpoint *ep, int __user *up)
{
	u64 bytes;
	int ret;

	ret = chan_stream_queued(ep->ch, &bytes);
	if (ret)
		return ret;
	return put_user((int)min_t(u64, bytes, INT_MAX), up);
}

static long chan_endpoint_ioctl(struct file *file, unsigned int cmd,
				unsigned long arg)
{
	struct chan_endpoint *ep = file->private_data;

	if (cmd == FIONREAD && chan_is_stream(ep->ch))
		return chan_endpoint_fionread(ep, (int __user *)arg);
	return chan_ioctl(file, NULL, ep, cmd, arg);
}

/*
 * write(2) and read(2), and their vectored forms: one whole message per
 * call, from @ubuf or gathered from @iter, into @ubuf or scattered over
 * @iter. A signal restarts a blocked call (-ERESTARTSYS), as on a pipe. A
 * read returns 0 only for a zero-length message: the end of the stream
 * (no sender left, drained) is EPIPE; a message that does not fit is
 * EMSGSIZE.
 *
 * On a byte stream (stream.c) they are a pipe's: a write of any length,
 * in atomic pieces of msg_size bytes; a read of whatever bytes are there,
 * and 0 at the end of the stream.
 */
static ssize_t chan_endpoint_send(struct chan_endpoint *ep,
				  const char __user *ubuf,
				  struct iov_iter *iter, size_t count,
				  bool nonblock)
{
	struct chan_deadline dl = { .nonblock = nonblock };
	int ret;

	if (!(ep->roles & CHAN_ROLE_SEND))
		return -EBADF;
	if (chan_is_stream(ep->ch))
		return chan_stream_write(ep->ch, &ep->bounce, ubuf, iter, count,
					 &dl);
	if (count > ep->ch->msg_size)
		return -EMSGSIZE;
	ret = chan_send_user(ep->ch, true, &ep->bounce, ubuf, iter, count,
			     &dl);
	if (ret)
		return ret;
	return count;
}

static ssize_t chan_endpoint_recv(struct chan_endpoint *ep, char __user *ubuf,
				  struct iov_iter *iter, size_t count,
				  bool nonblock)
{
	struct chan_deadline dl = { .nonblock = nonblock };
	u32 len = 0;
	int ret;

	if (!(ep->roles & CHAN_ROLE_RECV))
		return -EBADF;
	ret = chan_recv_user(ep->ch, true, &ep->rx, true, NULL, &ep->bounce,
			     ubuf, iter,
			     min_t(size_t, count, U32_MAX), &len, &dl, false);
	/* The end of a byte stream reads as 0, as on a pipe. */
	if (ret == -EPIPE && chan_is_stream(ep->ch))
		return 0;
	if (ret)
		return ret;
	return len;
}

static ssize_t chan_endpoint_write(struct file *file, const char __user *buf,
				   size_t count, loff_t *ppos)
{
	return chan_endpoint_send(file->private_data, buf, NULL, count,
				  file->f_flags & O_NONBLOCK);
}

static ssize_t chan_endpoint_read(struct file *file, char __user *buf,
				  size_t count, loff_t *ppos)
{
	return chan_endpoint_recv(file->private_data, buf, NULL, count,
				  file->f_flags & O_NONBLOCK);
}

static bool chan_iocb_nonblock(struct kiocb *iocb)
{
	return (iocb->ki_filp->f_flags & O_NONBLOCK) ||
	       (iocb->ki_flags & IOCB_NOWAIT);
}

static ssize_t chan_endpoint_write_iter(struct kiocb *iocb,
					struct iov_iter *from)
{
	return chan_endpoint_send(iocb->ki_filp->private_data, NULL, from,
				  iov_iter_count(from),
				  chan_iocb_nonblock(iocb));
}

static ssize_t chan_endpoint_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	return chan_endpoint_recv(iocb->ki_filp->private_data, NULL, to,
				  iov_iter_count(to), chan_iocb_nonblock(iocb));
}

/*
 * Wait on a direction's queue for poll. On a mappable ring the endpoint
 * also counts itself, once and until it closes, among that direction's
 * waiters in the shared header: a fast-path peer then knows to ask the
 * kernel for a wake-up (CHAN_IOC_WAKE) that reaches the poller. Counted
 * before the caller's barrier and look at the ring, like a sleeper.
 */
static void chan_endpoint_poll_wait(struct file *file, struct chan_endpoint *ep,
				    enum chan_dir dir, poll_table *pt)
{
	struct chan *ch = ep->ch;
	int bit = dir == CHAN_DIR_SEND ? CHAN_EP_POLLED_SEND :
					 CHAN_EP_POLLED_RECV;

	poll_wait(file, &ch->wq[dir], pt);
	if (ch->ring.mappable && !poll_does_not_wait(pt) &&
	    !test_and_set_bit(bit, &ep->flags)) {
		atomic_inc(chan_ring_waiters(ch, dir));
		/*
		 * A compact ring's fast path reads the count without a
		 * barrier after its cursor store: make it execute one now
		 * (map.c). Once: the count stays up until the endpoint
		 * closes, so every read of it after this barrier sees it.
		 */
		if (ch->ring.compact)
			chan_map_fence_peers(ch);
	}
}

/*
 * What a receiver's poll finds: 1 (something to take: POLLIN), 0
 * (nothing: POLLHUP if no more can come), or -EBUSY on a stream whose
 * turn (or, mappable, whose head slot) another reader holds. Then
 * neither: a read would wait (or get EAGAIN) until the hold ends, whose
 * end wakes the receive queue (the kernel reader, libchan's
 * CHAN_IOC_WAKE, or the repair of a dead holder), so a level-triggered
 * poller sleeps instead of spinning, and hears POLLHUP only once the
 * holder has left nothing.
 */
static int chan_endpoint_can_recv(struct chan *ch, struct chan_endpoint *ep)
{
	if (chan_is_bcast(ch))
		return chan_bcast_can_recv(ch, &ep->rx);
	if (ch->ring.compact)
		return chan_spsc_can_progress(ch, CHAN_DIR_RECV);
	if (chan_is_stream(ch))
		return chan_stream_can_recv(ch);
	return chan_ring_can_recv(&ch->ring.view);
}

/* POLLOUT: room for a message. */
static bool chan_endpoint_can_send(struct chan *ch)
{
	if (chan_is_bcast(ch))
		return chan_bcast_can_send(ch);
	if (ch->ring.compact)
		return chan_spsc_can_progress(ch, CHAN_DIR_SEND);
	return chan_ring_can_send(&ch->ring.view);
}

static __poll_t chan_endpoint_poll(struct file *file, poll_table *pt)
{
	struct chan_endpoint *ep = file->private_data;
	struct chan *ch = ep->ch;
	__poll_t mask = 0;
	u32 state;

	if (ep->roles & CHAN_ROLE_RECV)
		chan_endpoint_poll_wait(file, ep, CHAN_DIR_RECV, pt);
	if (ep->roles & CHAN_ROLE_SEND)
		chan_endpoint_poll_wait(file, ep, CHAN_DIR_SEND, pt);
	/*
	 * Pairs with the barrier in wq_has_sleeper() of the waker, with
	 * the full barrier a fast-path waker issues between its publish and
	 * its read of the count, and with the barrier between the end of a
	 * stream reader's turn and its look for pollers
	 * (chan_stream_turn_end()).
	 */
	smp_mb();

	state = chan_state(ch);
	if (state & CHAN_STATE_DESTROYED)
		return EPOLLHUP | EPOLLERR;
	if (ep->roles & CHAN_ROLE_RECV) {
		int can = chan_endpoint_can_recv(ch, ep);

		if (can > 0)
			mask |= EPOLLIN | EPOLLRDNORM;
		else if (!can &&
			 (state & (CHAN_STATE_NO_SENDERS | CHAN_STATE_CLOSED)))
			mask |= EPOLLHUP;
	}
	if (ep->roles & CHAN_ROLE_SEND) {
		if (state & (CHAN_STATE_NO_RECEIVERS | CHAN_STATE_CLOSED))
			mask |= EPOLLHUP;
		else if (chan_endpoint_can_send(ch))
			mask |= EPOLLOUT | EPOLLWRNORM;
	}
	return mask;
}

/* The state bits as fdinfo shows them: "live", or a comma list. */
static void chan_show_state(struct seq_file *m, u32 state)
{
	static const struct {
		u32 bit;
		const char *name;
	} bits[] = {
		{ CHAN_STATE_DESTROYED, "destroyed" },
		{ CHAN_STATE_NO_SENDERS, "no_senders" },
		{ CHAN_STATE_NO_RECEIVERS, "no_receivers" },
		{ CHAN_STATE_CLOSED, "closed" },
	};
	const char *sep = "";
	unsigned int i;

	seq_puts(m, "state:\t");
	if (!state)
		seq_puts(m, "live");
	for (i = 0; i < ARRAY_SIZE(bits); i++) {
		if (state & bits[i].bit) {
			seq_printf(m, "%s%s", sep, bits[i].name);
			sep = ",";
		}
	}
	seq_putc(m, '\n');
}

/*
 * /proc/PID/fdinfo/FD of a channel fd (docs/observability.md). It runs in
 * the reader's context, which procfs has allowed to look at the fd's
 * process (ptrace read access), and holds a reference on the file: the
 * endpoint, its channel and the ring stay, even if the channel is
 * destroyed or the endpoint unmapped meanwhile. The values are INFO's
 * (chan_fill_info(), which takes only the channel's spinlock and drops it
 * before anything here prints) and the endpoint's own; no kernel address.
 */
static void chan_endpoint_show_fdinfo(struct seq_file *m, struct file *file)
{
	struct chan_endpoint *ep = file->private_data;
	struct chan *ch = ep->ch;
	struct chan_info info = {};

	chan_fill_info(ch, &info);
	seq_printf(m, "chan_id:\t%u\n", info.id);
	/* Validated printable ASCII without spaces (chan_validate_name()). */
	seq_printf(m, "chan_name:\t%.*s\n", (int)sizeof(info.name),
		   info.name);
	seq_printf(m, "roles:\t%s\n",
		   ep->roles == (CHAN_ROLE_SEND | CHAN_ROLE_RECV) ?
		   "send,recv" : ep->roles & CHAN_ROLE_SEND ? "send" : "recv");
	chan_show_state(m, info.state);
	seq_printf(m, "mappable:\t%d\n", ch->ring.mappable);
	seq_printf(m, "mapped:\t%d\n", atomic_read(&ep->map_vmas) > 0);
	seq_printf(m, "token:\t%u\n", ep->token);
	seq_printf(m, "msg_size:\t%u\n", info.msg_size);
	seq_printf(m, "capacity:\t%u\n", info.capacity);
	seq_printf(m, "depth:\t%u\n", info.depth);
	seq_printf(m, "senders:\t%u\n", info.senders);
	seq_printf(m, "receivers:\t%u\n", info.receivers);
	seq_printf(m, "mappers:\t%u\n", chan_map_count(ch));
	seq_printf(m, "sent:\t%llu\n", info.sent);
	seq_printf(m, "received:\t%llu\n", info.received);
	seq_printf(m, "dropped:\t%llu\n", info.dropped);
	seq_printf(m, "discarded:\t%llu\n", info.discarded);
	seq_printf(m, "send_waits:\t%llu\n", info.send_waits);
	seq_printf(m, "recv_waits:\t%llu\n", info.recv_waits);
	seq_printf(m, "corrupt:\t%llu\n", info.corrupt);
	if (chan_is_stream(ch))
		chan_stream_show_fdinfo(m, ch);
	if (chan_is_bcast(ch)) {
		seq_printf(m, "chan_lost:\t%llu\n", info.lost);
		/* This receiver's own: where it reads next, what it missed. */
		if (ep->roles & CHAN_ROLE_RECV) {
			seq_printf(m, "cursor:\t%llu\n", chan_bcast_rx_pos(ch, &ep->rx));
			seq_printf(m, "lost:\t%llu\n",
				   chan_bcast_rx_lost(ch, &ep->rx));
		}
	}
}

static const struct file_operations chan_endpoint_fops = {
	.owner = THIS_MODULE,
	.release = chan_endpoint_release,
	.unlocked_ioctl = chan_endpoint_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.read = chan_endpoint_read,
	.write = chan_endpoint_write,
	.read_iter = chan_endpoint_read_iter,
	.write_iter = chan_endpoint_write_iter,
	.poll = chan_endpoint_poll,
	.mmap = chan_endpoint_mmap,
	.show_fdinfo = chan_endpoint_show_fdinfo,
};

/**
 * chan_endpoint_open() - make a channel fd
 * @ch: the channel (the caller's reference is not consumed)
 * @roles: CHAN_ROLE_* bits, validated
 * @open_flags: CHAN_OPEN_* bits, validated
 * @owner: the caller may destroy the channel (arms auto-destroy)
 * @mapper: the caller may map the channel (it is mappable, and the caller
 *	may read and write it): only such an endpoint gets an owner token,
 *	so that a caller with one permission cannot use up a channel's
 *	tokens, and with them its endpoints, for the others
 * @token_out: where the caller wants the endpoint's owner token (0 if it
 *	has none), or NULL
 *
 * Everything that can fail (the fd, the file, writing the token) is done
 * before the endpoint is counted, so that a failed open never disconnects
 * or destroys the channel; once counted, the fd is installed and nothing
 * fails.
 *
 * Return: the new fd, or -ENOSPC (no owner token left for a mapper),
 * -EIDRM, -ENOMEM, -EMFILE, -ENFILE, -EFAULT.
 */
int chan_endpoint_open(struct chan *ch, u32 roles, u32 open_flags,
		       bool owner, bool mapper, u32 __user *token_out)
{
	struct chan_endpoint *ep;
	struct file *file;
	int flags = O_RDWR, fd, ret;

	ep = kzalloc(sizeof(*ep), GFP_KERNEL_ACCOUNT);
	if (!ep)
		return -ENOMEM;
	if (mapper) {
		ret = ida_alloc_range(&ch->tokens, CHAN_OWNER_KERNEL + 1,
				      CHAN_SLOT_OWNER_MASK, GFP_KERNEL);
		if (ret < 0)
			goto err_free;
		ep->token = ret;
	}
	ep->roles = roles;
	ep->ch = ch;
	atomic_set(&ep->map_vmas, 0);
	if (token_out && put_user(ep->token, token_out)) {
		ret = -EFAULT;
		goto err_token;
	}

	if (open_flags & CHAN_OPEN_NONBLOCK)
		flags |= O_NONBLOCK;
	fd = get_unused_fd_flags((open_flags & CHAN_OPEN_CLOEXEC) ?
				 O_CLOEXEC : 0);
	if (fd < 0) {
		ret = fd;
		goto err_token;
	}
	kref_get(&ch->ref);
	file = anon_inode_getfile("[chan]", &chan_endpoint_fops, ep, flags);
	if (IS_ERR(file)) {
		ret = PTR_ERR(file);
		chan_put(ch);
		goto err_fd;
	}
	/* From here the file's release frees the endpoint. */
	chan_obj_created(CHAN_OBJ_ENDPOINT);
	ret = chan_attach(ch, roles, owner);
	if (ret) {
		put_unused_fd(fd);
		fput(file);
		return ret;
	}
	ep->attached = true;
	/* It reads what is sent from now on. */
	if (chan_is_bcast(ch) && (roles & CHAN_ROLE_RECV))
		chan_bcast_attach(ch, &ep->rx);
	/* Before the fd is installed: a close may free the endpoint then. */
	trace_chan_open(ep);
	fd_install(fd, file);
	return fd;

err_fd:
	put_unused_fd(fd);
err_token:
	if (ep->token)
		ida_free(&ch->tokens, ep->token);
err_free:
	kfree(ep);
	return ret;
}
