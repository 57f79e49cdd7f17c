// SPDX-License-Identifier: GPL-2.0
/*
 * The message ioctls: SEND and RECV of one message, SEND_BATCH and
 * RECV_BATCH of many, and CALL (a request and its reply in one system
 * call). Each checks its arguments and its caller's right, then hands the
 * transfer to io.c.
 */
#include <linux/file.h>
#include <linux/uaccess.h>
#include "chan_private.h"

static struct chan_bounce *chan_ucmd_bounce(struct chan_ucmd *ucmd)
{
	return ucmd->ep ? &ucmd->ep->bounce : &ucmd->cf->bounce;
}

/* The receiver's cursor on a broadcast channel: an endpoint's own. */
static struct chan_bcast_rx *chan_ucmd_rx(struct chan_ucmd *ucmd)
{
	return ucmd->ep ? &ucmd->ep->rx : NULL;
}

/*
 * An SPSC channel is used through its two endpoints: a message command by
 * ID would be a third party (EBUSY), checked after the permission.
 */
static int chan_msg_by_id_ok(struct chan *ch)
{
	return ch->flags & CHAN_CREATE_SPSC ? -EBUSY : 0;
}

/*
 * Common checks of the message commands: the deadline, then the channel
 * (@id, or the fd's own) and the role or permission.
 */
static struct chan *chan_msg_prepare(struct chan_ucmd *ucmd, u32 role,
				     u32 id, u32 flags, u64 timeout_ns,
				     struct chan_deadline *dl)
{
	struct chan *ch;
	int ret;

	ret = chan_deadline_init(dl, flags, timeout_ns,
				 ucmd->file->f_flags & O_NONBLOCK);
	if (ret)
		return ERR_PTR(ret);
	if (ucmd->ep && !(ucmd->ep->roles & role))
		return ERR_PTR(-EBADF);
	ch = chan_ucmd_chan(ucmd, id);
	if (IS_ERR(ch))
		return ch;
	if (!ucmd->ep) {
		ret = chan_permitted(ch, role, true) ? chan_msg_by_id_ok(ch) :
						       -EACCES;
		if (ret) {
			chan_ucmd_put(ucmd, ch);
			return ERR_PTR(ret);
		}
	}
	/* A broadcast receiver needs a cursor: only endpoints have one. */
	if (!ucmd->ep && role == CHAN_ROLE_RECV && chan_is_bcast(ch)) {
		chan_ucmd_put(ucmd, ch);
		return ERR_PTR(-EOPNOTSUPP);
	}
	return ch;
}

/*
 * A send or receive that a signal interrupted is restarted (-ERESTARTSYS)
 * unless a handler without SA_RESTART runs. A relative timeout must keep
 * its end across the restart, however long the task then stays stopped:
 * the caller's struct is turned into the same deadline given absolutely
 * (timeout_ns the deadline on the caller's CLOCK_MONOTONIC, flags gain
 * CHAN_MSG_ABSTIME), which the restarted call reads. The timeout is
 * written first, so the struct is never left holding a deadline read as a
 * relative timeout; if the flags cannot be written, the time left is put
 * back as a relative timeout and the call fails with EINTR. @uflags and
 * @utimeout are the struct's fields in user memory, @flags what the first
 * held.
 */
static int chan_msg_interrupted(const struct chan_deadline *dl,
				u32 __user *uflags, u64 __user *utimeout,
				u32 flags)
{
	s64 left;

	if (!dl->relative)
		return -ERESTARTSYS;
	if (put_user(chan_deadline_user(dl), utimeout))
		return -EINTR;
	if (put_user(flags | CHAN_MSG_ABSTIME, uflags)) {
		left = ktime_to_ns(ktime_sub(dl->expires, ktime_get()));
		if (put_user((u64)max_t(s64, left, 0), utimeout))
			return -EFAULT;
		return -EINTR;
	}
	return -ERESTARTSYS;
}

int chan_cmd_send(struct chan_ucmd *ucmd)
{
	struct chan_msg __user *um = ucmd->ubuffer;
	struct chan_msg *m = ucmd->cmd;
	struct chan_deadline dl;
	struct chan *ch;
	int ret;

	ch = chan_msg_prepare(ucmd, CHAN_ROLE_SEND, m->id, m->flags,
			      m->timeout_ns, &dl);
	if (IS_ERR(ch))
		return PTR_ERR(ch);
	ret = chan_send_user(ch, !!ucmd->ep, chan_ucmd_bounce(ucmd),
			     u64_to_user_ptr(m->buf), NULL, m->len, &dl);
	chan_ucmd_put(ucmd, ch);
	if (ret == -ERESTARTSYS)
		ret = chan_msg_interrupted(&dl, &um->flags, &um->timeout_ns,
					   m->flags);
	return ret;
}

int chan_cmd_recv(struct chan_ucmd *ucmd)
{
	struct chan_msg *m = ucmd->cmd;
	struct chan_msg __user *um = ucmd->ubuffer;
	bool has_lost = ucmd->user_size >= offsetofend(struct chan_msg, lost);
	struct chan_deadline dl;
	struct chan *ch;
	u64 lost = 0;
	u32 len = 0;
	int ret;

	/*
	 * The length (and the count of messages lost) go back through the
	 * struct: make sure they can before a message is taken, so a
	 * read-only struct cannot lose one.
	 */
	if (put_user(m->len, &um->len))
		return -EFAULT;
	if (has_lost && put_user(0ULL, &um->lost))
		return -EFAULT;
	/* BADMSG is RECV's alone: elsewhere it is an unknown flag. */
	ch = chan_msg_prepare(ucmd, CHAN_ROLE_RECV, m->id,
			      m->flags & ~CHAN_MSG_BADMSG, m->timeout_ns, &dl);
	if (IS_ERR(ch))
		return PTR_ERR(ch);
	ret = chan_recv_user(ch, !!ucmd->ep, chan_ucmd_rx(ucmd), true, &lost,
			     chan_ucmd_bounce(ucmd),
			     u64_to_user_ptr(m->buf), NULL, m->len, &len, &dl,
			     m->flags & CHAN_MSG_BADMSG);
	chan_ucmd_put(ucmd, ch);
	if (ret == -ENOBUFS && has_lost && put_user(lost, &um->lost))
		return -EFAULT;
	if ((!ret || ret == -EMSGSIZE || ret == -EBADMSG) &&
	    put_user(len, &um->len))
		return -EFAULT;
	if (ret == -ERESTARTSYS)
		ret = chan_msg_interrupted(&dl, &um->flags, &um->timeout_ns,
					   m->flags);
	return ret;
}

/*
 * Up to b->count messages in one call, in order. Only the first waits,
 * unless CHAN_MSG_WAITALL; once one was moved, an error ends the batch and
 * the count is returned (the next call meets the error again).
 */
static int chan_cmd_batch(struct chan_ucmd *ucmd, enum chan_dir dir)
{
	const struct chan_deadline nowait = { .nonblock = true };
	struct chan_batch __user *ub = ucmd->ubuffer;
	struct chan_batch *b = ucmd->cmd;
	struct chan_iov __user *uv = u64_to_user_ptr(b->vec);
	struct chan_bounce *bounce = chan_ucmd_bounce(ucmd);
	const struct chan_deadline *dlp;
	struct chan_deadline dl;
	struct chan_iov iov;
	struct chan *ch;
	u32 i, len;
	int ret = 0;

	if (!b->count || b->count > CHAN_BATCH_MAX)
		return -EINVAL;
	ch = chan_msg_prepare(ucmd, dir == CHAN_DIR_SEND ? CHAN_ROLE_SEND :
			      CHAN_ROLE_RECV, b->id,
			      b->flags & ~CHAN_MSG_WAITALL, b->timeout_ns, &dl);
	if (IS_ERR(ch))
		return PTR_ERR(ch);
	/* A stream's bytes are read and written whole, not in batches. */
	if (chan_is_stream(ch)) {
		chan_ucmd_put(ucmd, ch);
		return -EOPNOTSUPP;
	}
	dlp = &dl;
	for (i = 0; i < b->count; i++) {
		if (copy_from_user(&iov, &uv[i], sizeof(iov))) {
			ret = -EFAULT;
			break;
		}
		if (iov.__reserved) {
			ret = -EINVAL;
			break;
		}
		if (dir == CHAN_DIR_SEND) {
			ret = chan_send_user(ch, !!ucmd->ep, bounce,
					     u64_to_user_ptr(iov.buf), NULL,
					     iov.len, dlp);
		} else if (put_user(iov.len, &uv[i].len)) {
			/* The length goes back: writable before a message is
			 * taken, so that none is lost for want of it.
			 */
			ret = -EFAULT;
		} else {
			len = 0;
			/* An overrun after the first stops the batch untaken. */
			ret = chan_recv_user(ch, !!ucmd->ep,
					     chan_ucmd_rx(ucmd), !i, NULL,
					     bounce,
					     u64_to_user_ptr(iov.buf), NULL,
					     iov.len, &len, dlp, false);
			if ((!ret || ret == -EMSGSIZE) &&
			    put_user(len, &uv[i].len))
				ret = -EFAULT;
		}
		if (ret)
			break;
		if (!(b->flags & CHAN_MSG_WAITALL))
			dlp = &nowait;
		cond_resched();
	}
	chan_ucmd_put(ucmd, ch);
	if (i)
		return i;
	if (ret == -ERESTARTSYS)
		ret = chan_msg_interrupted(&dl, &ub->flags, &ub->timeout_ns,
					   b->flags);
	return ret;
}

int chan_cmd_send_batch(struct chan_ucmd *ucmd)
{
	return chan_cmd_batch(ucmd, CHAN_DIR_SEND);
}

int chan_cmd_recv_batch(struct chan_ucmd *ucmd)
{
	return chan_cmd_batch(ucmd, CHAN_DIR_RECV);
}

/*
 * The channel a CALL receives its reply from: on a channel fd, the
 * endpoint of c->reply_fd (*filep holds it), else by ID with read
 * permission. Give it back with chan_call_reply_put().
 */
static struct chan *chan_call_reply_get(struct chan_ucmd *ucmd,
					const struct chan_call *c,
					struct file **filep,
					struct chan_bounce **bouncep,
					struct chan_bcast_rx **rxp)
{
	struct chan_endpoint *rep;
	struct file *file;
	struct chan *ch;
	int ret;

	*filep = NULL;
	if (!ucmd->ep) {
		if (c->reply_fd != -1)
			return ERR_PTR(-EINVAL);
		*bouncep = &ucmd->cf->bounce;
		ch = chan_lookup(ucmd->cf->ns, c->reply_id);
		if (!ch)
			return ERR_PTR(-ENOENT);
		ret = chan_permitted(ch, CHAN_ROLE_RECV, true) ?
		      chan_msg_by_id_ok(ch) : -EACCES;
		if (ret) {
			chan_put(ch);
			return ERR_PTR(ret);
		}
		/* No cursor by ID: refused before the request goes. */
		if (chan_is_bcast(ch)) {
			chan_put(ch);
			return ERR_PTR(-EOPNOTSUPP);
		}
		*rxp = NULL;
		return ch;
	}
	if (c->reply_id)
		return ERR_PTR(-EINVAL);
	file = fget(c->reply_fd);
	if (!file)
		return ERR_PTR(-EBADF);
	rep = chan_endpoint_from_file(file);
	if (!rep || !(rep->roles & CHAN_ROLE_RECV)) {
		fput(file);
		return ERR_PTR(-EBADF);
	}
	*filep = file;
	*bouncep = &rep->bounce;
	*rxp = &rep->rx;
	return rep->ch;
}

static void chan_call_reply_put(struct chan *ch, struct file *file)
{
	if (file)
		fput(file);	/* the endpoint's file holds the channel */
	else
		chan_put(ch);
}

/*
 * Send a request, then receive a reply, under one deadline. Once the
 * request went, a signal ends the call with EINTR: a restart would send
 * it again.
 */
int chan_cmd_call(struct chan_ucmd *ucmd)
{
	struct chan_call __user *uc = ucmd->ubuffer;
	struct chan_call *c = ucmd->cmd;
	struct chan_bounce *rbounce;
	struct chan_bcast_rx *rrx;
	struct chan_deadline dl;
	struct chan *sch, *rch;
	struct file *rfile;
	u32 len = 0;
	int ret;

	/* The outputs must be writable before anything is sent or taken. */
	if (put_user(0U, &uc->out_sent) || put_user(c->recv_len, &uc->recv_len))
		return -EFAULT;
	rch = chan_call_reply_get(ucmd, c, &rfile, &rbounce, &rrx);
	if (IS_ERR(rch))
		return PTR_ERR(rch);
	sch = chan_msg_prepare(ucmd, CHAN_ROLE_SEND, c->id, c->flags,
			       c->timeout_ns, &dl);
	if (IS_ERR(sch)) {
		ret = PTR_ERR(sch);
		goto out_reply;
	}
	/* Requests and replies are messages: no stream on either side. */
	if (chan_is_stream(sch) || chan_is_stream(rch)) {
		chan_ucmd_put(ucmd, sch);
		ret = -EOPNOTSUPP;
		goto out_reply;
	}
	ret = chan_send_user(sch, !!ucmd->ep, chan_ucmd_bounce(ucmd),
			     u64_to_user_ptr(c->send_buf), NULL, c->send_len,
			     &dl);
	chan_ucmd_put(ucmd, sch);
	if (ret) {
		if (ret == -ERESTARTSYS)
			ret = chan_msg_interrupted(&dl, &uc->flags,
						   &uc->timeout_ns, c->flags);
		goto out_reply;
	}
	if (put_user(1U, &uc->out_sent)) {
		ret = -EFAULT;
		goto out_reply;
	}
	ret = chan_recv_user(rch, !!ucmd->ep, rrx, true, NULL, rbounce,
			     u64_to_user_ptr(c->recv_buf), NULL, c->recv_len,
			     &len, &dl, false);
	if ((!ret || ret == -EMSGSIZE) && put_user(len, &uc->recv_len))
		ret = -EFAULT;
	if (ret == -ERESTARTSYS)
		ret = -EINTR;
out_reply:
	chan_call_reply_put(rch, rfile);
	return ret;
}
